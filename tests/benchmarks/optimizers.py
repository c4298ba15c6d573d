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

from tests.benchmarks._common import write_comparison

VALUES = ("adam", "adadelta")
#: The training budget both sides share (the shipped study's epochs and patience where Adam is chosen).
SETTINGS = {"epochs": 12, "patience": 3, "learning_rate": "auto"}


def main() -> None:
    write_comparison(
        "optimizers",
        "sst5",
        "optimizer",
        VALUES,
        "validation accuracy (SST-5's dev set)",
        extra_model=SETTINGS,
    )


if __name__ == "__main__":
    main()
