"""(a) What a gapsearch trial costs against a plain Keras script, and whether it scores as well.

The plain script is what a Keras user writes: ``keras.Sequential`` of ``Embedding(mask_zero=True)``,
``Conv1D``, ``GlobalAveragePooling1D`` and ``Dense``, compiled with ``"adam"`` and ``model.fit`` on the
same MR arrays (gapsearch's vectorization, sequence length 56) with Keras' defaults. It runs twice:
as written, and given the settings gapsearch trains with (the validation batch, the steps per backend
call, the optimizer built before ``fit``). The gapsearch side is a trial of a study at its defaults
(length buckets, the masked model of gapsearch's builder, its default artifacts, SQLite), with the
same embedding width, filters, window, pooling, optimizer, learning rate, batch size and epochs.
:data:`DIFFERENCES` lists every setting that still differs between the sides.

The three sides run in one process after a warm-up each, taking turns round by round (the order
rotating), so that the machine's changing speed meets all of them alike; each round gives a ratio,
and each round uses one seed for all three sides, so the rounds are also the seeds of the accuracy
comparison (the best epoch's val_accuracy on each side, the measure a gapsearch trial records).
Then gapsearch's speed options are measured as gapsearch trials, each in its own process.

    python -m tests.benchmarks.trial_overhead [--quick] [--with-jit]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks._common import (
    interleaved,
    load_average,
    median_of,
    prepare_mr,
    quiet_keras,
    run_script,
    run_side,
    write_results,
)

MODULE = "tests.benchmarks.trial_overhead"
#: The hyperparameters both sides share: what the plain script hard-codes and the study's model fixes.
MODEL = {
    "max_tokens": 20000,
    "sequence_length": 56,
    "embedding_dim": 64,
    "filters": 128,
    "kernel_size": 3,
    "pooling": "average",
    "batch_size": 32,
    "epochs": 3,
}
PLAIN, PLAIN_SAME, GAPSEARCH = "plain Keras script", "plain Keras script, gapsearch's settings", "gapsearch trial"
#: Every setting that differs between the plain script (as written) and a gapsearch trial at its defaults.
DIFFERENCES = {
    "validation batch": ("32 (Keras: the training batch)", "256 (8 times the training batch, at most 256)"),
    "training steps per backend call": ("1 (Keras' default)", "8 (steps_per_execution: auto)"),
    "optimizer variables": ("built in the first step of fit", "built before fit"),
    "batches": ("every text padded to 56", "length buckets (4), each batch padded to its bucket's length"),
    "the padding mask": (
        "dropped by Conv1D (it does not support masking), so the average counts padded positions",
        "kept through the convolution and the pooling",
    ),
    "convolution padding": ("valid (Keras' default)", "same, with padded steps zeroed before each window"),
    "early stopping": ("none", "patience 3 (no stop within 3 epochs), the best epoch's weights kept"),
    "around fit": (
        "nothing",
        "sampling, trial attributes, costs, the default artifacts, SQLite writes, freeing memory",
    ),
}
#: The settings the plain script takes in its second form: those of gapsearch's that Keras itself offers.
SAME_SETTINGS = ("validation batch", "training steps per backend call", "optimizer variables")
OPTIONS = {
    "defaults": {},
    "length_buckets=0": {"length_buckets": 0},
    "steps_per_execution=1": {"steps_per_execution": 1},
    "steps_per_execution=16": {"steps_per_execution": 16},
}
if "--with-jit" in sys.argv:  # XLA: left out of `make bench`, which runs on CPUs
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


def _spec(folder: Path, model: dict[str, Any], filename: str = "study.yaml"):
    from gapsearch.spec import load_study

    path = folder / filename
    path.write_text(study_text(prepare_mr(folder), "overhead", model))
    return load_study(path)


def gapsearch_trials(folder: Path, options: dict[str, Any], tag: str) -> Callable[[], dict[str, float]]:
    """One gapsearch trial per call, on its own SQLite study: its wall time, the part outside fit, its value.

    Trial ``n`` of the study trains with seed ``trial_seed(1, n)``; the plain sides use the same seeds."""
    import optuna

    from gapsearch.search.objective import Objective
    from gapsearch.search.runner import create_or_load_study, load_data

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = _spec(folder, {**MODEL, **options}, f"{tag}.yaml")
    splits = load_data(spec)
    study = create_or_load_study(spec, f"sqlite:///{folder / f'{tag}-{time.time_ns()}.db'}", splits)
    objective = Objective(spec, splits)

    def trial() -> dict[str, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        study.optimize(objective, n_trials=1)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        last = study.trials[-1]
        return {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "outside_fit": seconds - last.user_attrs["train_seconds"],
            "value": last.value,
        }

    return trial


def plain_script(folder: Path, *, same_settings: bool) -> Callable[[], dict[str, float]]:
    """The Keras user's script, on gapsearch's arrays; with ``same_settings`` given gapsearch's
    validation batch, steps per call and optimizer built before fit (:data:`SAME_SETTINGS`)."""
    import keras

    from gapsearch.search.runner import load_data
    from gapsearch.search.selection import trial_seed
    from gapsearch.spec.hyperparameters import AUTO_STEPS_PER_EXECUTION
    from gapsearch.training.fit import validation_batch_size

    spec = _spec(folder, MODEL, "plain.yaml")
    splits = load_data(spec)
    data = splits.runs(MODEL["max_tokens"], MODEL["sequence_length"])[0][1]
    numbers = iter(range(10**6))

    def train_once() -> dict[str, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        keras.backend.clear_session()
        keras.utils.set_random_seed(trial_seed(spec.seed, next(numbers)))
        model = keras.Sequential(
            [
                keras.Input(shape=(MODEL["sequence_length"],), dtype="int32"),
                keras.layers.Embedding(data.vocabulary_size, MODEL["embedding_dim"], mask_zero=True),
                keras.layers.Conv1D(MODEL["filters"], MODEL["kernel_size"], activation="relu"),
                keras.layers.GlobalAveragePooling1D(),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        settings: dict[str, Any] = {}
        if same_settings:
            settings = {"validation_batch_size": validation_batch_size(MODEL["batch_size"])}
        model.compile(
            optimizer="adam",
            loss="binary_crossentropy",
            metrics=["accuracy"],
            steps_per_execution=AUTO_STEPS_PER_EXECUTION if same_settings else 1,
        )
        if same_settings:
            model.optimizer.build(model.trainable_variables)
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_validation, data.y_validation),
            epochs=MODEL["epochs"],
            batch_size=MODEL["batch_size"],
            verbose=0,
            **settings,
        )
        return {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
            "value": max(history.history["val_accuracy"]),
        }

    return train_once


def side_paired(config: dict[str, Any]) -> dict[str, Any]:
    """The three sides in turns, in one process (the order rotating); round ``r`` is seed ``r`` on every side."""
    import warnings

    quiet_keras()
    warnings.filterwarnings("ignore", message=".*does not support masking.*")  # the plain script's, as documented
    folder = Path(config["folder"])
    os.chdir(folder)  # the trials' artifact store
    sides = {
        PLAIN: plain_script(folder, same_settings=False),
        PLAIN_SAME: plain_script(folder, same_settings=True),
        GAPSEARCH: gapsearch_trials(folder, {}, "gapsearch"),
    }
    for run in sides.values():
        run()  # warm-up (seed 0): first tracing, vectorization
    results: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    names = list(sides)
    for number in range(config["rounds"]):
        for side in names[number % 3 :] + names[: number % 3]:
            results[side].append(sides[side]())
        print(
            f"round {number + 1}: " + ", ".join(f"{side} {results[side][-1]['seconds']:.2f}s" for side in names),
            file=sys.stderr,
            flush=True,
        )
    return results


def quartiles(values: list[float]) -> list[float]:
    """The first and third quartiles: the middle half of the rounds' ratios lies between them."""
    if len(values) < 2:
        return [round(values[0], 3)] * 2 if values else []
    first, _, third = statistics.quantiles(values, n=4, method="inclusive")
    return [round(first, 3), round(third, 3)]


def side_gapsearch(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    folder = Path(config["folder"])
    os.chdir(folder)
    trial = gapsearch_trials(folder, config["options"], "options")
    trial()  # warm-up
    runs = [trial() for _ in range(config["trials"])]
    seconds = [r["seconds"] for r in runs]
    return {"seconds": min(seconds), "trial_seconds": seconds, "val_accuracy": [r["value"] for r in runs]}


def _accuracy(values: list[float]) -> dict[str, Any]:
    from gapsearch.stats import summarize

    return {"values": [round(v, 4) for v in values], **summarize(values).as_dict()}


def summary_of(paired: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """Medians of the rounds' times and ratios, and each side's accuracy over the rounds' seeds."""
    from gapsearch.stats import summarize

    def values(side: str, key: str = "seconds") -> list[float]:
        return [r[key] for r in paired[side]]

    rows: dict[str, Any] = {}
    for side in paired:
        ratios = [g / b for g, b in zip(values(side), values(PLAIN), strict=True)]
        cpu = [g / b for g, b in zip(values(side, "cpu_seconds"), values(PLAIN, "cpu_seconds"), strict=True)]
        rows[side] = {
            "seconds": round(statistics.median(values(side)), 3),
            "ratio_to_plain": round(statistics.median(ratios), 3),
            "round_ratios": [round(r, 3) for r in ratios],
            "ratio_quartiles": quartiles(ratios),
            "cpu_ratio_to_plain": round(statistics.median(cpu), 3),
            "val_accuracy": _accuracy(values(side, "value")),
        }
    against_same = [g / b for g, b in zip(values(GAPSEARCH), values(PLAIN_SAME), strict=True)]
    # Paired by seed: the rounds' differences of val_accuracy, gapsearch minus the plain script.
    differences = [g - p for g, p in zip(values(GAPSEARCH, "value"), values(PLAIN, "value"), strict=True)]
    return {
        "sides": rows,
        "gapsearch_ratio_to_plain_same_settings": round(statistics.median(against_same), 3),
        "gapsearch_ratio_to_plain_same_settings_quartiles": quartiles(against_same),
        "gapsearch_outside_fit_seconds": round(statistics.median(values(GAPSEARCH, "outside_fit")), 3),
        "accuracy_difference": summarize(differences).as_dict(),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    # 12 rounds: on a shared machine single rounds range over tens of percent, so the median needs many;
    # they are also 12 seeds of each side's accuracy (at least five asked).
    rounds, option_rounds, trials = (2, 1, 1) if quick else (12, 2, 2)
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        prepare_mr(Path(tmp))
        load_before = load_average()
        print(f"(a) plain Keras script, the same given gapsearch's settings, gapsearch trial: {rounds} rounds in turns")
        paired = run_side(MODULE, "paired", {"folder": tmp, "rounds": rounds})
        print(f"gapsearch's speed options, {option_rounds} rounds of {trials} timed trials per process")
        options = interleaved(
            list(OPTIONS),
            option_rounds,
            lambda side: run_side(MODULE, "gapsearch", {"folder": tmp, "trials": trials, "options": OPTIONS[side]}),
        )
        load_after = load_average()
    summary = summary_of(paired)
    base = median_of(options["defaults"], "seconds")
    option_rows = {
        side: {
            "options": OPTIONS[side],
            "seconds": round(median_of(runs, "seconds"), 3),
            "ratio_to_default": round(median_of(runs, "seconds") / base, 3),
            "val_accuracy": [round(v, 4) for r in runs for v in r["val_accuracy"]],
        }
        for side, runs in options.items()
    }
    for side, row in summary["sides"].items():
        accuracy = row["val_accuracy"]
        print(
            f"(a) {side}: {row['seconds']:.2f}s, {row['ratio_to_plain']:.3f} of the plain script; "
            f"val_accuracy {accuracy['mean']:.4f} [{accuracy['ci_low']:.4f}, {accuracy['ci_high']:.4f}]"
        )
    for side, row in option_rows.items():
        print(f"    {side}: {row['seconds']:.2f}s ({row['ratio_to_default']:.3f} of the defaults)")
    write_results(
        "trial_overhead",
        {
            "what": f"one trial (build and fit, {MODEL['epochs']} epochs, MR, sequence_length "
            f"{MODEL['sequence_length']}): a plain Keras script, the same script given gapsearch's settings, and a "
            "gapsearch trial at its defaults, in one process taking turns round by round, one seed per round",
            "model": MODEL,
            "differences": {name: {"plain": a, "gapsearch": b} for name, (a, b) in DIFFERENCES.items()},
            "same_settings": list(SAME_SETTINGS),
            "rounds": rounds,
            "option_rounds": option_rounds,
            "timed_trials_per_process": trials,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "overhead": summary,
            "overhead_runs": paired,
            "options": option_rows,
        },
    )


if __name__ == "__main__":
    run_script(main, {"paired": side_paired, "gapsearch": side_gapsearch})
