"""IMDB's vocabulary size, through ``gapsearch compare --param max_tokens`` on the shipped study.

``studies/imdb.yaml`` runs with one trial, its embedding dimension and pooling pinned as the accuracy
benchmark pins them (the pooling benchmark (d) found best on validation), and its search space reduced
to ``max_tokens`` over 5000, 10000 and 20000; ``gapsearch compare`` trains each with the same new seeds,
scored on the validation split of IMDB's train. The test set is not read. The values are listed
smallest first: ``gapsearch compare`` keeps that order among equal means, so a tie goes to the
smaller model. The accuracy benchmark pins
the best value here (``tests.benchmarks.accuracy``). Writes ``results/vocabulary.json``.

    python -m tests.benchmarks.vocabulary [--seeds 3]
"""

from __future__ import annotations

from tests.benchmarks._common import write_comparison

VALUES = (5000, 10000, 20000)


def main() -> None:
    write_comparison(
        "vocabulary",
        "imdb",
        "max_tokens",
        VALUES,
        "validation accuracy (20% of IMDB's train, held out stratified)",
    )


if __name__ == "__main__":
    main()
