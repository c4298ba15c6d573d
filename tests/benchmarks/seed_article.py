"""The two background articles' claims, answered with gapsearch's own commands on ``studies/seed-article.yaml``.

The study is run as shipped (its grid: embedding_dim 64, 256, 512 with global average pooling, and
the same three with ``pooling: flatten``), then, from its best trial with average pooling,
``gapsearch compare --param embedding_dim`` and ``gapsearch compare --param pooling``, each over
paired seeds. Every figure is a validation accuracy (SST-2's dev set); the test set chooses
nothing and is not read. Writes ``results/seed_article.json``; ``python -m tests.benchmarks.report``
renders its tables and verdicts into the README.

    python -m tests.benchmarks.seed_article [--seeds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.benchmarks._common import ROOT, gapsearch_cli, load_average, shipped_study, write_results

STUDY = ROOT / "studies" / "seed-article.yaml"


def paired(a: list[float], b: list[float]) -> dict[str, Any]:
    """Mean and 95% interval of ``a - b`` over paired seeds, and the paired t-test's p-value."""
    from gapsearch.stats import paired_p_value, summarize

    return {**summarize([x - y for x, y in zip(a, b, strict=True)]).as_dict(), "p_value": paired_p_value(a, b, "t")}


def verdicts(dims: dict[int, dict[str, Any]], pools: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each claim of the articles, with the measured figures that decide it (intervals of paired differences)."""
    gain = paired(dims[256]["runs"], dims[64]["runs"])
    over = paired(dims[512]["runs"], dims[256]["runs"])
    flat = paired(pools["flatten"]["runs"], pools["average"]["runs"])
    return {
        "64_bottlenecks": {
            "claim": "64 dimensions bottleneck the model (256 is better)",
            "difference_256_minus_64": gain,
            "holds": gain["ci_low"] > 0,
        },
        "512_costs_more_and_overfits": {
            "claim": "512 dimensions cost more and overfit (a wider train-validation gap, no better accuracy)",
            "difference_512_minus_256": over,
            "params_ratio_512_to_256": dims[512]["costs"]["params"] / dims[256]["costs"]["params"],
            "seconds_per_epoch_ratio_512_to_256": dims[512]["mean_seconds_per_epoch"]
            / dims[256]["mean_seconds_per_epoch"],
            "gap_512_minus_256": dims[512]["mean_gap"] - dims[256]["mean_gap"],
            "costs_more": dims[512]["costs"]["params"] > dims[256]["costs"]["params"]
            and dims[512]["mean_seconds_per_epoch"] > dims[256]["mean_seconds_per_epoch"],
            "overfits": over["ci_low"] <= 0 and dims[512]["mean_gap"] > dims[256]["mean_gap"],
        },
        "average_matches_flatten_with_fewer_parameters": {
            "claim": "global average pooling matches flattening's accuracy with far fewer parameters",
            "difference_flatten_minus_average": flat,
            "params_ratio_flatten_to_average": pools["flatten"]["costs"]["params"]
            / pools["average"]["costs"]["params"],
            "holds": flat["ci_low"] <= 0,  # flatten not significantly better
        },
    }


def main() -> None:
    import optuna

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    seeds = parser.parse_args().seeds
    started = time.perf_counter()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="gapsearch-seed-article-") as tmp:
        folder = Path(tmp)
        (folder / STUDY.name).write_text(shipped_study(STUDY.name))
        spec = yaml.safe_load(STUDY.read_text())
        gapsearch_cli("run", STUDY.name, "--no-progress", cwd=folder)
        study = optuna.load_study(study_name=spec["name"], storage=f"sqlite:///{folder / 'gapsearch.db'}")
        trials = [t for t in study.trials if t.value is not None]
        grid = [
            {"params": t.params, "val_accuracy": t.value, "params_count": t.user_attrs.get("params_total")}
            for t in trials
        ]
        average = max((t for t in trials if t.params["pooling"] == "average"), key=lambda t: t.value)
        printed = {}
        for param in ("embedding_dim", "pooling"):
            printed[param] = gapsearch_cli(
                "compare",
                STUDY.name,
                "--param",
                param,
                "--seeds",
                str(seeds),
                "--trial",
                str(average.number),
                "--no-progress",
                cwd=folder,
            )
            print(printed[param], flush=True)
        study = optuna.load_study(study_name=spec["name"], storage=f"sqlite:///{folder / 'gapsearch.db'}")
        compared = {param: study.user_attrs[f"compare:{param}"] for param in printed}
    dims = {int(r["value"]): r for r in compared["embedding_dim"]["results"]}
    pools = {r["value"]: r for r in compared["pooling"]["results"]}
    write_results(
        "seed_article",
        {
            "what": "studies/seed-article.yaml (SST-2 train phrases and sentences, validation on its dev set), "
            f"run as shipped, then gapsearch compare over {seeds} paired seeds from trial {average.number}",
            "commands": [
                "gapsearch run studies/seed-article.yaml",
                f"gapsearch compare studies/seed-article.yaml --param embedding_dim --seeds {seeds} "
                f"--trial {average.number}",
                f"gapsearch compare studies/seed-article.yaml --param pooling --seeds {seeds} --trial {average.number}",
            ],
            "seeds": seeds,
            "base_trial": average.number,
            "grid": grid,
            "compare": compared,
            "verdicts": verdicts(dims, pools),
            "printed": printed,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
