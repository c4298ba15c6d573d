"""Every global pooling on MR, SST-2 and SST-5, through ``gapsearch compare --param pooling``.

Each shipped study file (``studies/mr.yaml``, ``studies/sst2.yaml``, ``studies/sst5.yaml``) runs with
one trial, its embedding dimension pinned as in ``tests.benchmarks.accuracy`` and its search space reduced to
``pooling`` over every pooling (average, max, attention, gem, mixed, flatten); then
``gapsearch compare --param pooling`` trains each pooling with the same new seeds. On MR seed
``i`` trains on fold ``i`` of the 10 (epochs chosen on that fold's inner split, the fold scored);
on SST-2 and SST-5 on train, scored on their dev sets. The test sets are not read. IMDB's row comes from
benchmark (d) (``tests.benchmarks.masked_pooling``), whose masked figures use the same poolings.
Writes ``results/poolings.json``.

    python -m tests.benchmarks.poolings [--only mr,sst2,sst5] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import time

from tests.benchmarks._common import RESULTS, compare_values, load_average, write_results
from tests.benchmarks.accuracy import CASES

POOLINGS = ("average", "max", "attention", "gem", "mixed", "flatten")


def measure(name: str, seeds: int) -> dict:
    study_file, pinned, _ = CASES[name]
    started, load_before = time.perf_counter(), load_average()
    compared = compare_values(study_file, {"embedding_dim": pinned["embedding_dim"]}, "pooling", POOLINGS, seeds)
    return {
        "dataset": name,
        "study": f"studies/{study_file}",
        "pinned": {"embedding_dim": pinned["embedding_dim"]},
        "measure": "10-fold: seed i on fold i (inner split chooses the epochs)"
        if compared["folds"]
        else "validation accuracy (dev set)",
        "compare": compared["compare"],
        "printed": compared["printed"],
        "seconds": round(time.perf_counter() - started, 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="mr,sst2,sst5")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    out = RESULTS / "poolings.json"
    previous = {row["dataset"]: row for row in json.loads(out.read_text())["rows"]} if out.exists() else {}
    for name in [n for n in args.only.split(",") if n]:
        previous[name] = measure(name, args.seeds)
    rows = [previous[n] for n in ("mr", "sst2", "sst5") if n in previous]
    write_results("poolings", {"seeds": args.seeds, "rows": rows})


if __name__ == "__main__":
    main()
