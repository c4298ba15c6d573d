"""What a trial's per-epoch checkpoint costs: disk per checkpoint, and seconds per epoch to write it.

Run from the repository root:  python -m tests.benchmarks.checkpoints [--repeats 3]
Trains the quickstart study's smallest and largest models (its data, epochs, patience and batch size)
with and without checkpoints, the two in turn, each ``--repeats`` times in this one process, and times
each checkpoint write itself. Writes tests/benchmarks/results/checkpoints.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = {
    "smallest": {"embedding_dim": 8, "pooling": "average", "filters": 16},
    "largest": {"embedding_dim": 64, "pooling": "attention", "filters": 64, "attention_units": 64},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from tests.benchmarks._common import load_average, quiet_keras, write_results

    quiet_keras()
    load_before = load_average()
    from gapsearch.search.runner import load_data
    from gapsearch.search.runs import TrainingRun, fit_run
    from gapsearch.search.space import hyperparameters
    from gapsearch.spec import load_study
    from gapsearch.training.checkpoints import TrialCheckpoint

    spec = load_study(Path(__file__).resolve().parents[2] / "studies" / "quickstart.yaml")
    splits = load_data(spec)
    saves: list[float] = []
    original_save = TrialCheckpoint.save

    def timed_save(self, *a, **k) -> None:  # noqa: ANN001, ANN002, ANN003
        started = time.perf_counter()
        original_save(self, *a, **k)
        saves.append(time.perf_counter() - started)

    TrialCheckpoint.save = timed_save  # type: ignore[method-assign]
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, sampled in MODELS.items():
            hp = hyperparameters(spec.fixed, sampled)
            data = splits.runs(hp.max_tokens, int(hp.sequence_length))[0][1]
            run = TrainingRun(name="validation", seed=1, data=data)
            per_epoch: dict[str, list[float]] = {"without": [], "with": []}
            sizes, params = [], 0
            for repeat in range(args.repeats):
                for side in ("without", "with"):
                    checkpoint = TrialCheckpoint(Path(folder) / f"{name}-{repeat}") if side == "with" else None
                    result = fit_run(
                        hp, run, n_classes=2, task=splits.info.task, monitor=spec.monitored,
                        metrics=spec.compiled_metrics, latency=False, checkpoint=checkpoint,
                    )  # fmt: skip
                    per_epoch[side].append(result.seconds_per_epoch)
                    params = int(result.model.count_params()) if result.model is not None else 0
                    if checkpoint is not None:
                        current = checkpoint.folder / "current"
                        sizes.append(sum(f.stat().st_size for f in current.iterdir()))
                        checkpoint.remove()
            rows[name] = {
                "hyperparameters": sampled,
                "params": params,
                "checkpoint_bytes": statistics.median(sizes),
                "epoch_seconds_without": statistics.median(per_epoch["without"]),
                "epoch_seconds_with": statistics.median(per_epoch["with"]),
                "save_seconds_median": statistics.median(saves),
            }
            saves.clear()
            print(name, rows[name])
    write_results(
        "checkpoints",
        {
            "what": f"the quickstart study's data and training settings ({spec.model.epochs} epochs, "
            f"patience {spec.model.patience}, batch {spec.model.batch_size}), {args.repeats} runs per side",
            "repeats": args.repeats,
            "models": rows,
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
