"""The starting portfolio that ``portfolio: N`` queues, built from the learning-curve tables.

Greedy, as portfolios of configurations are built for zero-shot search (Feurer et al.'s and Wistuba et
al.'s): each entry is the configuration that most lowers the mean, over the data sets, of the best regret
(points of seed-mean validation accuracy below the data set's best) among the entries chosen so far. Only
configurations every table holds are candidates. The replays build the same portfolio leave-one-dataset-out
(:func:`greedy` on the other tables) to score it on the data set it was not built from.

    python -m tests.benchmarks.portfolio   # writes gapsearch/search/portfolio.json
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping

from tests.benchmarks._common import ROOT
from tests.benchmarks.curves import read_table

OUT = ROOT / "gapsearch" / "search" / "portfolio.json"
ENTRIES = 8
DATASETS = ("mr", "sst5", "imdb")


def regrets(runs: list[dict]) -> tuple[dict[str, float], dict[str, dict]]:
    """Each configuration's regret in points (its seed-mean of best-epoch values below the table's best)."""
    by_key: dict[str, list[float]] = {}
    configs: dict[str, dict] = {}
    for run in runs:
        by_key.setdefault(run["key"], []).append(max(run["history"]["val_accuracy"]))
        configs[run["key"]] = run["config"]
    quality = {key: statistics.fmean(values) for key, values in by_key.items()}
    best = max(quality.values())
    return {key: 100 * (best - value) for key, value in quality.items()}, configs


def covers_grid(runs: list[dict]) -> bool:
    """Whether a table holds every configuration of the grid at least once."""
    from tests.benchmarks.curves import configurations

    return len({run["key"] for run in runs}) == len(configurations())


def greedy(regret: Mapping[str, Mapping[str, float]], entries: int = ENTRIES) -> list[tuple[str, float]]:
    """The portfolio's keys, best first, each with the mean over the data sets of the best regret so far."""
    keys = sorted(set.intersection(*(set(r) for r in regret.values())))
    chosen: list[tuple[str, float]] = []
    best_so_far = {dataset: float("inf") for dataset in regret}
    for _ in range(min(entries, len(keys))):
        with_each = {
            k: statistics.fmean(min(best_so_far[d], regret[d][k]) for d in regret)
            for k in keys
            if k not in dict(chosen)
        }
        # Ties (once an entry reaches a data set's best, others add nothing there) go to the better configuration.
        key = min(with_each, key=lambda k: (with_each[k], statistics.fmean(regret[d][k] for d in regret), k))
        chosen.append((key, round(with_each[key], 4)))
        best_so_far = {d: min(best_so_far[d], regret[d][key]) for d in regret}
    return chosen


def main() -> None:
    regret, configs, sources = {}, {}, {}
    for dataset in DATASETS:
        header, runs = read_table(dataset)
        if not covers_grid(runs):
            continue  # a table still being built holds only part of the grid
        regret[dataset], found = regrets(runs)
        configs |= found
        sources[dataset] = {"runs": len(runs), "seeds": header["seeds"], "epochs": header["epochs"]}
    if not regret:
        raise SystemExit("no learning-curve table: run python -m tests.benchmarks.curves first")
    chosen = greedy(regret)
    OUT.write_text(
        json.dumps(
            {
                "built_by": "python -m tests.benchmarks.portfolio",
                "built_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "tables": sources,
                "entries": [{"params": configs[key], "mean_best_regret": mean} for key, mean in chosen],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {OUT.relative_to(ROOT)}: {len(chosen)} entries from {', '.join(sources)}")


if __name__ == "__main__":
    main()
