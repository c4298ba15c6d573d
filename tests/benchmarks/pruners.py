"""(b2) Which pruner should be the default: each candidate on the spaces and data of benchmark (b).

gapsearch's study of each search space of :mod:`tests.benchmarks.kerastuner_search` on each of
its datasets, at its defaults but for the pruner, with seeds that (b) does not use (so that this
choice does not tune (b)'s figures). Each study's wall time is measured as a user runs it
(``gapsearch run``), and its chosen configuration is trained again on new seeds, the same way for
every candidate, so that a pruner is judged by the model it leads to, not by its luckiest trial.

The default is the candidate with the shortest median wall time, relative to no pruning, among
those whose retrained accuracy stays within :data:`TOLERANCE_POINTS` of no pruning's (median of
the paired cells): the choice is made by :func:`choose` from the JSON and shown on the
benchmarks page.

    python -m tests.benchmarks.pruners [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from typing import Any

from tests.benchmarks._common import load_average, run_side, write_results
from tests.benchmarks.kerastuner_search import DATASET_NAMES, MODULE, SPACES, run_gapsearch

CANDIDATES: dict[str, dict[str, Any]] = {
    "none": {"type": "none"},
    "median": {"type": "median"},
    "successive_halving": {"type": "successive_halving", "min_resource": 1, "reduction_factor": 3},
}
SEEDS = (11,)
TOLERANCE_POINTS = 0.2


def choose(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Each candidate's median time and accuracy against no pruning, paired by cell, and the choice."""
    rows = {}
    for name in CANDIDATES:
        ratios = [c["runs"][name]["seconds"] / c["runs"]["none"]["seconds"] for c in cells]
        points = [
            100 * (statistics.fmean(c["runs"][name]["retrained"]) - statistics.fmean(c["runs"]["none"]["retrained"]))
            for c in cells
        ]
        rows[name] = {
            "time_ratio_to_none_median": round(statistics.median(ratios), 3),
            "time_ratios": [round(r, 3) for r in ratios],
            "retrained_points_to_none_median": round(statistics.median(points), 2),
            "retrained_points": [round(p, 2) for p in points],
            "pruned_median": statistics.median(c["runs"][name]["pruned"] for c in cells),
        }
    eligible = [n for n, r in rows.items() if r["retrained_points_to_none_median"] >= -TOLERANCE_POINTS]
    chosen = min(eligible, key=lambda n: rows[n]["time_ratio_to_none_median"])
    return {"candidates": rows, "chosen": chosen, "tolerance_points": TOLERANCE_POINTS}


def main() -> None:
    quick = "--quick" in sys.argv
    n_trials = 3 if quick else 10
    spaces = list(SPACES)[:1] if quick else list(SPACES)
    datasets = DATASET_NAMES[:1] if quick else DATASET_NAMES
    load_before = load_average()
    started = time.perf_counter()
    cells = []
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        plan = [(space, dataset, seed) for seed in SEEDS for dataset in datasets for space in spaces]
        for number, (space, dataset, seed) in enumerate(plan, start=1):
            runs = {}
            for index, (name, pruner) in enumerate(CANDIDATES.items()):
                config = {
                    "folder": tmp,
                    "name": f"p{number}-{index}",
                    "space": space,
                    "dataset": dataset,
                    "seed": seed,
                    "n_trials": n_trials,
                    "equal": False,
                    "pruner": pruner,
                }
                run = run_gapsearch(config)
                run["retrained"] = run_side(MODULE, "retrain", {**config, "params": run["best_params"]})["val_accuracy"]
                runs[name] = run
            cells.append({"space": space, "dataset": dataset, "seed": seed, "n_trials": n_trials, "runs": runs})
            print(
                f"[{number}/{len(plan)}] {space} / {dataset}: "
                + ", ".join(f"{n} {r['seconds']:.0f}s {statistics.fmean(r['retrained']):.4f}" for n, r in runs.items())
                + f" ({time.perf_counter() - started:.0f}s so far)",
                flush=True,
            )
    summary = choose(cells)
    print(summary)
    write_results(
        "pruners",
        {
            "what": f"gapsearch studies of {n_trials} trials on benchmark (b)'s {len(spaces)} spaces x "
            f"{len(datasets)} datasets, seeds {list(SEEDS)}, one per candidate pruner, everything else at its default",
            "candidates": CANDIDATES,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "seconds": round(time.perf_counter() - started, 1),
            "summary": summary,
            "cells": cells,
        },
    )


if __name__ == "__main__":
    main()
