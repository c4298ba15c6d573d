"""What a trial's per-epoch checkpoint costs: disk per checkpoint, and the seconds each costs the training.

Run from the repository root:  python -m tests.benchmarks.checkpoints [--repeats 3]
Trains the quickstart study's smallest and largest models (its data, epochs, patience and batch size), and
an MR model the size of benchmark (b)'s largest (2.32M parameters; (b)'s data and fixed settings), with and
without checkpoints, the two in turn, each ``--repeats`` times in this one process. Times what each
checkpoint holds the training up (``save``, which copies the arrays and waits for a write still going,
and ``train``'s wait for the last write) and, apart, how long the background thread takes to write one.
Writes tests/benchmarks/results/checkpoints.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = {
    "smallest": {"embedding_dim": 8, "pooling": "average", "filters": 16},
    "largest": {"embedding_dim": 64, "pooling": "attention", "filters": 64, "attention_units": 64},
}
#: Benchmark (b)'s largest embedding and kernel with 192 filters, on the 17,164 words of MR's training split
#: (max_tokens 20000): 2.32M parameters.
MR_MODEL = {"embedding_dim": 128, "filters": 192, "kernel_size": 5}


def mr_study(folder: Path) -> Path:
    """A study file for MR with benchmark (b)'s data and fixed settings (its gapsearch side's defaults otherwise)."""
    import yaml

    from tests.benchmarks.kerastuner_search import FIXED, data_section

    body: dict[str, Any] = {
        "name": "mr",
        "metric": "val_accuracy",
        "direction": "maximize",
        "n_trials": 1,
        "data": data_section("mr", folder),
        "model": dict(FIXED),
        "search_space": {name: [value] for name, value in MR_MODEL.items()},
    }
    path = folder / "mr.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


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

    held_up: list[float] = []  # seconds the training's thread spent on checkpoints, a record per call
    writes: list[float] = []  # seconds the writing thread took per checkpoint
    saving = False
    original_save, original_wait, original_write = TrialCheckpoint.save, TrialCheckpoint.wait, TrialCheckpoint._write

    def timed_save(self, *a, **k) -> None:  # noqa: ANN001, ANN002, ANN003
        nonlocal saving
        started, saving = time.perf_counter(), True
        try:
            original_save(self, *a, **k)
        finally:
            saving = False
            held_up.append(time.perf_counter() - started)

    def timed_wait(self) -> None:  # noqa: ANN001
        started = time.perf_counter()
        original_wait(self)
        if not saving:  # save's own wait is in save's time already
            held_up.append(time.perf_counter() - started)

    def timed_write(self, *a) -> None:  # noqa: ANN001, ANN002
        started = time.perf_counter()
        original_write(self, *a)
        writes.append(time.perf_counter() - started)

    TrialCheckpoint.save, TrialCheckpoint.wait = timed_save, timed_wait  # type: ignore[method-assign]
    TrialCheckpoint._write = timed_write  # type: ignore[method-assign]
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        quickstart = load_study(Path(__file__).resolve().parents[2] / "studies" / "quickstart.yaml")
        mr = load_study(mr_study(Path(folder)))
        cases = [(name, "quickstart", quickstart, sampled) for name, sampled in MODELS.items()]
        cases.append(("(b)-sized", "MR", mr, MR_MODEL))
        splits = {spec.name: load_data(spec) for spec in (quickstart, mr)}
        for name, data_name, spec, sampled in cases:
            hp = hyperparameters(spec.fixed, sampled)
            data = splits[spec.name].runs(hp.max_tokens, int(hp.sequence_length))[0][1]
            run = TrainingRun(name="validation", seed=1, data=data)
            per_epoch: dict[str, list[float]] = {"without": [], "with": []}
            per_checkpoint: list[float] = []
            sizes, params = [], 0
            for repeat in range(args.repeats):
                for side in ("without", "with"):
                    checkpoint = TrialCheckpoint(Path(folder) / f"{name}-{repeat}") if side == "with" else None
                    held_up.clear()
                    result = fit_run(
                        hp, run, n_classes=len(splits[spec.name].info.class_names), task=splits[spec.name].info.task,
                        monitor=spec.monitored, metrics=spec.compiled_metrics, latency=False, checkpoint=checkpoint,
                    )  # fmt: skip
                    per_epoch[side].append(result.seconds_per_epoch)
                    params = int(result.model.count_params()) if result.model is not None else 0
                    if checkpoint is not None:
                        saves = len(held_up) - 1  # one record is train's last wait
                        per_checkpoint.append(sum(held_up) / max(saves, 1))
                        current = checkpoint.folder / "current"
                        sizes.append(sum(f.stat().st_size for f in current.iterdir()))
                        checkpoint.remove()
            rows[name] = {
                "data": data_name,
                "hyperparameters": sampled,
                "params": params,
                "checkpoint_bytes": statistics.median(sizes),
                "epoch_seconds_without": statistics.median(per_epoch["without"]),
                "epoch_seconds_with": statistics.median(per_epoch["with"]),
                # What the training waits per checkpoint: the copy, a write still going, train's last wait.
                "save_seconds_median": statistics.median(per_checkpoint),
                "write_seconds_median": statistics.median(writes),  # on the writing thread, beside the training
            }
            writes.clear()
            print(name, rows[name], flush=True)
    write_results(
        "checkpoints",
        {
            "what": f"the quickstart study's data and training settings ({quickstart.model.epochs} epochs, "
            f"patience {quickstart.model.patience}, batch {quickstart.model.batch_size}); MR with benchmark (b)'s "
            f"({mr.model.epochs} epochs, patience {mr.model.patience}, batch {mr.model.batch_size}, "
            f"max_tokens {mr.model.max_tokens}, length buckets {mr.model.length_buckets}); "
            f"{args.repeats} runs per side",
            "repeats": args.repeats,
            "models": rows,
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
