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

import argparse
import time

from tests.benchmarks._common import compare_values, load_average, write_results

VALUES = (5000, 10000, 20000)


def main() -> None:
    from tests.benchmarks.accuracy import CASES, validation_choice

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    seeds = parser.parse_args().seeds
    study_file, pinned, _ = CASES["imdb"]
    chosen, _ = validation_choice("imdb", "pooling")
    model = {"embedding_dim": pinned["embedding_dim"], **chosen}
    started, load_before = time.perf_counter(), load_average()
    compared = compare_values(study_file, model, "max_tokens", VALUES, seeds)
    write_results(
        "vocabulary",
        {
            "seeds": seeds,
            "rows": [
                {
                    "dataset": "imdb",
                    "study": f"studies/{study_file}",
                    "pinned": model,
                    "measure": "validation accuracy (20% of IMDB's train, held out stratified)",
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
