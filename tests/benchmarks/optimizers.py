"""SST-5's optimizer, Adam against Kim's Adadelta, through ``gapsearch compare --param optimizer``.

``studies/sst5.yaml`` runs with one trial, its embedding dimension pinned as the accuracy benchmark
pins it and its pooling the one the poolings benchmark found best on SST-5's dev set; its search space
is reduced to ``optimizer`` over adam and adadelta, each at its ``learning_rate: auto`` (Adam 1e-3,
Adadelta 1.0, Kim's), both with the same epochs and patience (``SETTINGS``: Adadelta takes more epochs
than Adam to converge, so both sides get the longer budget; early stopping ends Adam sooner).
``gapsearch compare`` trains each with the same new seeds, scored on the dev set; the test set is not
read. ``studies/sst5.yaml`` changes from Adam, the shipped optimizer, only where the best's
difference from Adam lies outside seed noise (its interval excludes 0); a test in tests/test_docs.py
holds the study to this file. Writes ``results/optimizers.json``.

    python -m tests.benchmarks.optimizers [--seeds 3]
"""

from __future__ import annotations

import argparse
import time

from tests.benchmarks._common import compare_values, load_average, write_results

VALUES = ("adam", "adadelta")
#: The training budget both sides share (the shipped study's epochs and patience where Adam is chosen).
SETTINGS = {"epochs": 12, "patience": 3, "learning_rate": "auto"}


def main() -> None:
    from tests.benchmarks.accuracy import CASES, validation_choice

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    seeds = parser.parse_args().seeds
    study_file, pinned, _ = CASES["sst5"]
    chosen, _ = validation_choice("sst5", "pooling")
    model = {"embedding_dim": pinned["embedding_dim"], **chosen, **SETTINGS}
    started, load_before = time.perf_counter(), load_average()
    compared = compare_values(study_file, model, "optimizer", VALUES, seeds)
    write_results(
        "optimizers",
        {
            "seeds": seeds,
            "rows": [
                {
                    "dataset": "sst5",
                    "study": f"studies/{study_file}",
                    "pinned": model,
                    "measure": "validation accuracy (SST-5's dev set)",
                    "compare": compared["compare"],
                    "printed": compared["printed"],
                    "seconds": round(time.perf_counter() - started, 1),
                    "load_before": load_before,
                    "load_after": load_average(),
                }
            ],
        },
    )


if __name__ == "__main__":
    main()
