"""(a) What a gapsearch trial costs on top of a bare ``model.fit``, and what its speed options save.

The same model (gapsearch's builder, fixed hyperparameters) on the same MR arrays, trained for the
same epochs with the same batch size: as a gapsearch trial (sampling, run attributes, the per-epoch
reporter, artifacts, SQLite writes, freeing memory) and by a bare script (clear the session, build,
``fit``). The bare script builds its model with gapsearch's builder, which compiles
``steps_per_execution: auto`` (8 steps per call under TensorFlow), so the gapsearch trial at its
defaults trains exactly as the bare script does, and their ratio is what the tool adds. The gapsearch
trial runs once more at one step per call (Keras' own default), which shows what ``auto`` saves.
The three run in one process after a warm-up each, taking turns round by
round (the order rotating), so that the machine's changing speed, which on a shared 2-core machine
moves a trial by tens of percent within minutes, meets all three alike; each round gives a ratio.
Then the fast-trial options are measured as gapsearch trials, each in its own process.

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
#: A gapsearch trial at one step per backend call (Keras' default): against the bare script, which
#: runs ``steps_per_execution: auto`` like the defaults side, it shows what ``auto`` saves.
ONE_STEP = "steps_per_execution=1"
OPTIONS = {
    "gapsearch": {},
    ONE_STEP: {"steps_per_execution": 1},
    "length_buckets=4": {"length_buckets": 4},
    "length_buckets=4,steps_per_execution=16": {"length_buckets": 4, "steps_per_execution": 16},
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


def _spec(folder: Path, model: dict[str, Any], filename: str = "study.yaml"):
    from gapsearch.spec import load_study

    path = folder / filename
    path.write_text(study_text(prepare_mr(folder), "overhead", model))
    return load_study(path)


def gapsearch_trials(folder: Path, options: dict[str, Any], tag: str) -> Callable[[], dict[str, float]]:
    """One gapsearch trial per call, on its own SQLite study: its wall time, the part outside fit, its value."""
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
        # Sampling, run attributes, building, artifacts, storage writes, freeing memory: all but model.fit.
        return {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "outside_fit": seconds - last.user_attrs["train_seconds"],
            "value": last.value,
        }

    return trial


def bare_trainer(folder: Path) -> Callable[[], dict[str, float]]:
    """What a Keras user writes: clear the session, seed, build, compile for val_accuracy, ``fit``."""
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.search.objective import trial_seed
    from gapsearch.search.runner import load_data

    spec = _spec(folder, MODEL, "bare.yaml")
    hp = spec.model
    splits = load_data(spec)
    data = splits.runs(hp.max_tokens, hp.sequence_length)[0][1]
    numbers = iter(range(10**6))

    def train_once() -> dict[str, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        keras.backend.clear_session()
        keras.utils.set_random_seed(trial_seed(spec.seed, next(numbers)))
        # Compiled as a user compiles for val_accuracy, and as a gapsearch trial of this study does.
        model = build_model(
            hp, vocabulary_size=data.vocabulary_size, n_classes=len(splits.info.class_names), metrics=["accuracy"]
        )
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_validation, data.y_validation),
            epochs=hp.epochs,
            batch_size=hp.batch_size,
            shuffle=True,
            verbose=0,
        )
        return {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
            "value": max(history.history["val_accuracy"]),
        }

    return train_once


def side_paired(config: dict[str, Any]) -> dict[str, Any]:
    """The bare script, the gapsearch trial and the gapsearch trial at one step per call, in turns.

    All three in one process, one after another in each round (the order rotating), so a change in
    the machine's speed meets all three alike; each round gives its own ratios.
    """
    quiet_keras()
    folder = Path(config["folder"])
    os.chdir(folder)  # the trials' artifact store
    sides = {
        "bare": bare_trainer(folder),
        "gapsearch": gapsearch_trials(folder, {}, "gapsearch"),
        ONE_STEP: gapsearch_trials(folder, OPTIONS[ONE_STEP], "one-step"),
    }
    for run in sides.values():
        run()  # warm-up: first tracing, vectorization
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


def main() -> None:
    quick = "--quick" in sys.argv
    # 16 rounds: on a shared machine single rounds range over tens of percent, so the median needs many.
    rounds, option_rounds, trials = (1, 1, 1) if quick else (16, 2, 3)
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        prepare_mr(Path(tmp))
        load_before = load_average()
        print(f"(a) bare model.fit, gapsearch trial and gapsearch at one step per call: {rounds} rounds in turns")
        paired = run_side(MODULE, "paired", {"folder": tmp, "rounds": rounds})
        print(f"fast-trial options, {option_rounds} rounds of {trials} timed trials per process")
        option_sides = [side for side in OPTIONS if side != ONE_STEP]
        options = interleaved(
            option_sides,
            option_rounds,
            lambda side: run_side(MODULE, "gapsearch", {"folder": tmp, "trials": trials, "options": OPTIONS[side]}),
        )
        load_after = load_average()

    def seconds(side: str, key: str = "seconds") -> list[float]:
        return [r[key] for r in paired[side]]

    bare = seconds("bare")
    ratios = [g / b for g, b in zip(seconds("gapsearch"), bare, strict=True)]
    # CPU seconds of the process (every thread): what each side computed, whatever else the machine ran.
    cpu_ratios = [
        g / b for g, b in zip(seconds("gapsearch", "cpu_seconds"), seconds("bare", "cpu_seconds"), strict=True)
    ]
    one_step_ratios = [g / b for g, b in zip(seconds(ONE_STEP), bare, strict=True)]
    summary = {
        "bare_seconds": round(statistics.median(bare), 3),
        "gapsearch_seconds": round(statistics.median(seconds("gapsearch")), 3),
        "ratio": round(statistics.median(ratios), 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "ratio_quartiles": quartiles(ratios),
        "gapsearch_one_step_seconds": round(statistics.median(seconds(ONE_STEP)), 3),
        "ratio_one_step": round(statistics.median(one_step_ratios), 3),
        "round_ratios_one_step": [round(r, 3) for r in one_step_ratios],
        "ratio_one_step_quartiles": quartiles(one_step_ratios),
        "cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "cpu_ratio_quartiles": quartiles(cpu_ratios),
        "gapsearch_outside_fit_seconds": round(statistics.median(r["outside_fit"] for r in paired["gapsearch"]), 3),
        "val_accuracy_equal": [r["value"] for r in paired["gapsearch"]] == [r["value"] for r in paired[ONE_STEP]],
    }
    gap, one = summary["gapsearch_seconds"], summary["gapsearch_one_step_seconds"]
    base = median_of(options["gapsearch"], "seconds")
    option_rows = {
        side: {
            "seconds": round(median_of(runs, "seconds"), 3),
            "ratio_to_default": round(median_of(runs, "seconds") / base, 3),
            "val_accuracy": [v for r in runs for v in r["val_accuracy"]],
        }
        for side, runs in options.items()
    }
    print(
        f"(a) median trial: bare {summary['bare_seconds']:.2f}s, gapsearch {gap:.2f}s; "
        f"median ratio of the rounds {summary['ratio']:.3f}, middle half {summary['ratio_quartiles']} "
        f"({summary['round_ratios']})"
    )
    print(f"    at one step per call: gapsearch {one:.2f}s, ratio {summary['ratio_one_step']:.3f}")
    cpu, cpu_span = summary["cpu_ratio"], summary["cpu_ratio_quartiles"]
    print(f"    CPU time of the process: ratio {cpu:.3f}, middle half {cpu_span}")
    for side, row in option_rows.items():
        print(f"    {side}: {row['seconds']:.2f}s ({row['ratio_to_default']:.3f} of the default)")
    write_results(
        "trial_overhead",
        {
            "what": "one trial (build + fit, 2 epochs, MR, sequence_length 56), gapsearch against a bare model.fit "
            "script, in one process taking turns round by round; the ratio is the median of the rounds' ratios",
            "one_step_options": OPTIONS[ONE_STEP],
            "model": MODEL,
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
