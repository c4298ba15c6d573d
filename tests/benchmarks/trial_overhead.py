"""(a) What a gapsearch trial costs on top of a bare ``model.fit``, and what its speed options save.

The same model (gapsearch's builder, fixed hyperparameters) on the same MR arrays, trained for the
same epochs with the same batch size: once as a gapsearch trial (sampling, run attributes, the
per-epoch reporter, SQLite writes, freeing memory) and once by a bare script (build, ``fit``).
Each side runs in its own process: one untimed warm-up training, then ``trials`` timed ones.
Then the fast-trial options are measured the same way, each as a gapsearch trial.

    python -m tests.benchmarks.trial_overhead [--quick] [--with-jit]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks._common import (
    emit,
    interleaved,
    load_average,
    median_of,
    prepare_mr,
    quiet_keras,
    run_side,
    side_arguments,
    write_results,
)

MODULE = "tests.benchmarks.trial_overhead"
MODEL = {
    "max_tokens": 20000,
    "sequence_length": 56,
    "embedding_dim": 64,
    "filters": 128,
    "pooling": "average",
    "batch_size": 32,
    "epochs": 2,
    "patience": 0,
}
OPTIONS = {
    "gapsearch": {},
    "length_buckets=4": {"length_buckets": 4},
    "steps_per_execution=8": {"steps_per_execution": 8},
    "length_buckets=4,steps_per_execution=8": {"length_buckets": 4, "steps_per_execution": 8},
}
if "--with-jit" in sys.argv:  # XLA on a CPU: about twice as slow here, so left out of `make bench`
    OPTIONS["jit_compile=true"] = {"jit_compile": True}


def study_text(tsv: Path, name: str, model: dict[str, Any]) -> str:
    lines = [
        f"name: {name}",
        "metric: val_accuracy",
        "direction: maximize",
        "n_trials: 1000",
        "seed: 1",
        "pruner: {type: none}",
        f"data: {{format: tsv, train: {tsv}, text: text, label: label, validation_split: 0.2}}",
        "model:",
        *(f"  {key}: {str(value).lower() if isinstance(value, bool) else value}" for key, value in model.items()),
    ]
    return "\n".join(lines) + "\n"


def _spec(folder: Path, model: dict[str, Any]):
    from gapsearch.spec import load_study

    path = folder / "study.yaml"
    path.write_text(study_text(prepare_mr(folder), "overhead", model))
    return load_study(path)


def side_gapsearch(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    import optuna

    from gapsearch.objective import Objective
    from gapsearch.runner import create_or_load_study, load_data

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = Path(config["folder"])
    spec = _spec(folder, {**MODEL, **config["options"]})
    splits = load_data(spec)
    study = create_or_load_study(spec, f"sqlite:///{folder / f'overhead-{time.time_ns()}.db'}", splits)
    objective = Objective(spec, splits)
    study.optimize(objective, n_trials=1)  # warm-up: first tracing, vectorization
    seconds, outside_fit = [], []
    for _ in range(config["trials"]):
        started = time.perf_counter()
        study.optimize(objective, n_trials=1)
        seconds.append(time.perf_counter() - started)
        # Sampling, run attributes, building, storage writes and freeing memory: all but model.fit.
        outside_fit.append(seconds[-1] - study.trials[-1].user_attrs["train_seconds"])
    values = [t.value for t in study.trials[1:]]
    return {
        "seconds": min(seconds),
        "trial_seconds": seconds,
        "outside_fit_seconds": outside_fit,
        "val_accuracy": values,
    }


def side_bare(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.objective import trial_seed
    from gapsearch.runner import load_data

    folder = Path(config["folder"])
    spec = _spec(folder, MODEL)
    hp = spec.model
    splits = load_data(spec)
    data = splits.runs(hp.max_tokens, hp.sequence_length)[0][1]

    def train_once(number: int) -> float:
        keras.backend.clear_session()
        keras.utils.set_random_seed(trial_seed(spec.seed, number))
        model = build_model(hp, vocabulary_size=data.vocabulary_size, n_classes=len(splits.info.class_names))
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_validation, data.y_validation),
            epochs=hp.epochs,
            batch_size=hp.batch_size,
            shuffle=True,
            verbose=0,
        )
        return max(history.history["val_accuracy"])

    train_once(0)  # warm-up, like the gapsearch side
    seconds, values = [], []
    for number in range(1, config["trials"] + 1):
        started = time.perf_counter()
        values.append(train_once(number))
        seconds.append(time.perf_counter() - started)
    return {"seconds": min(seconds), "trial_seconds": seconds, "val_accuracy": values}


def main() -> None:
    quick = "--quick" in sys.argv
    rounds, trials = (1, 1) if quick else (2, 2)
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        prepare_mr(Path(tmp))

        def measure(side: str) -> dict[str, Any]:
            kind = "bare" if side == "bare" else "gapsearch"
            config = {"folder": tmp, "trials": trials, "options": OPTIONS.get(side, {})}
            return run_side(MODULE, kind, config)

        load_before = load_average()
        print(f"(a) gapsearch trial against bare model.fit, {rounds} rounds of {trials} timed trials per side")
        overhead = interleaved(["bare", "gapsearch"], rounds, measure)
        print(f"fast-trial options, {rounds} rounds")
        option_sides = list(OPTIONS)
        options = interleaved(option_sides, max(1, rounds - 1), measure)
        load_after = load_average()

    bare, gap = median_of(overhead["bare"], "seconds"), median_of(overhead["gapsearch"], "seconds")
    summary = {
        "bare_seconds": round(bare, 3),
        "gapsearch_seconds": round(gap, 3),
        "ratio": round(gap / bare, 3),
        "gapsearch_outside_fit_seconds": round(
            statistics.median(v for r in overhead["gapsearch"] for v in r["outside_fit_seconds"]), 3
        ),
    }
    base = median_of(options["gapsearch"], "seconds")
    option_rows = {
        side: {
            "seconds": round(median_of(runs, "seconds"), 3),
            "ratio_to_default": round(median_of(runs, "seconds") / base, 3),
            "val_accuracy": [v for r in runs for v in r["val_accuracy"]],
        }
        for side, runs in options.items()
    }
    print(f"(a) median trial: bare {bare:.2f}s, gapsearch {gap:.2f}s, ratio {gap / bare:.3f}")
    for side, row in option_rows.items():
        print(f"    {side}: {row['seconds']:.2f}s ({row['ratio_to_default']:.3f} of the default)")
    write_results(
        "trial_overhead",
        {
            "what": "one trial (build + fit, 2 epochs, MR, sequence_length 56), gapsearch against bare model.fit; "
            "each side's figure is its fastest timed trial in a process, the median over rounds",
            "model": MODEL,
            "rounds": rounds,
            "timed_trials_per_process": trials,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "overhead": summary,
            "overhead_runs": overhead,
            "options": option_rows,
        },
    )


if __name__ == "__main__":
    arguments = side_arguments()
    if arguments is None:
        main()
    else:
        side, config = arguments
        emit({"bare": side_bare, "gapsearch": side_gapsearch}[side](config))
