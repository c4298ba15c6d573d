"""(c) gapsearch against Optuna alone: what gapsearch costs or saves against the library it is built on.

The Optuna side is written the way Optuna's documentation and its Keras example show it: an
``objective(trial)`` that clears the Keras session, builds a ``keras.Sequential`` from
``trial.suggest_*`` calls, compiles it with Adam at the suggested learning rate and fits it with
optuna-integration's ``KerasPruningCallback(trial, "val_accuracy")``, returning the validation
accuracy that ``model.evaluate`` gives after the last epoch; ``optuna.create_study(direction=
"maximize", sampler=TPESampler(seed=...), pruner=MedianPruner(n_startup_trials=2))`` in memory,
``study.optimize(objective, n_trials=N)``. The gapsearch side is ``gapsearch run`` on the study file
of the same space (benchmark (b)'s first space, MR with 20% held out, (b)'s fixed settings), every
other setting at its default. Both run in fresh processes, wall time from process start to exit,
on the same arrays (gapsearch's vectorization); :data:`DIFFERENCES` lists every setting that
differs. Each side's chosen configuration is trained again on new seeds the same way, as in (b).

    python -m tests.benchmarks.optuna_alone [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from typing import Any

from tests.benchmarks._common import load_average, quiet_keras, run_script, run_side, write_results
from tests.benchmarks.kerastuner_search import FIXED, SPACES, cell_arrays, run_gapsearch
from tests.benchmarks.kerastuner_search import MODULE as SEARCH_MODULE

MODULE = "tests.benchmarks.optuna_alone"
SPACE = "width and rate"
SEEDS = (1, 2, 3)
#: What Optuna's Keras example prunes with.
MEDIAN_STARTUP_TRIALS = 2
#: Every setting that differs between the hand-written Optuna study and ``gapsearch run``.
DIFFERENCES = {
    "model": (
        "keras.Sequential: Embedding(mask_zero=True), Conv1D (valid padding; it drops the mask, so the "
        "pooling counts padded steps), global average or max pooling, Dense",
        "gapsearch's builder: the mask kept through the convolution (same padding, padded steps zeroed) "
        "and the pooling",
    ),
    "sampler": (
        "TPESampler(seed=...) with Optuna's defaults (independent, 10 random startup trials)",
        "TPE, multivariate and grouped, constant liar, 10 random startup trials (so at 10 trials both sides "
        "draw every trial at random, from different random streams)",
    ),
    "pruner": (
        f"MedianPruner(n_startup_trials={MEDIAN_STARTUP_TRIALS}) (Optuna's Keras example)",
        "successive halving (min_resource 1, reduction factor 3; benchmark (b2))",
    ),
    "trial value": ("model.evaluate after the last epoch", "the best epoch's val_accuracy"),
    "validation batch": ("32 (Keras' default)", "256"),
    "training steps per backend call": ("1 (Keras' default)", "8 (steps_per_execution: auto)"),
    "optimizer variables": ("built in the first step of fit", "built before fit"),
    "batches": ("every text padded to 56", "length buckets (4)"),
    "early stopping": ("none", "patience 3, the best epoch's weights kept"),
    "storage": ("in memory (lost when the process ends)", "SQLite file"),
    "around each trial": (
        "nothing",
        "trial attributes, costs, the default artifacts (plots, explanation, best model), checkpoints",
    ),
}


def side_optuna(config: dict[str, Any]) -> dict[str, Any]:
    """The study an Optuna user writes for Keras, on the cell's arrays; its best trial and its curve."""
    started = config["started"]
    quiet_keras()
    import keras
    import optuna
    from optuna_integration import KerasPruningCallback

    data, _ = cell_arrays(config)
    space = SPACES[SPACE]
    ends: list[tuple[float, float]] = []

    def objective(trial: optuna.Trial) -> float:
        keras.backend.clear_session()
        filters = space["filters"]
        pooling = trial.suggest_categorical("pooling", space["pooling"])
        model = keras.Sequential(
            [
                keras.Input(shape=(FIXED["sequence_length"],), dtype="int32"),
                keras.layers.Embedding(
                    data.vocabulary_size,
                    trial.suggest_categorical("embedding_dim", space["embedding_dim"]),
                    mask_zero=True,
                ),
                keras.layers.Conv1D(
                    trial.suggest_int("filters", filters["low"], filters["high"], step=filters["step"]),
                    trial.suggest_categorical("kernel_size", space["kernel_size"]),
                    activation="relu",
                ),
                keras.layers.GlobalAveragePooling1D() if pooling == "average" else keras.layers.GlobalMaxPooling1D(),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        rate = space["learning_rate"]
        model.compile(
            optimizer=keras.optimizers.Adam(trial.suggest_float("learning_rate", rate["low"], rate["high"], log=True)),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_validation, data.y_validation),
            epochs=FIXED["epochs"],
            batch_size=FIXED["batch_size"],
            callbacks=[KerasPruningCallback(trial, "val_accuracy")],
            verbose=0,
        )
        score = model.evaluate(data.x_validation, data.y_validation, verbose=0)[1]
        ends.append((time.time() - started, score))
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=config["seed"]),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS),
    )
    study.optimize(objective, n_trials=config["n_trials"])
    return {
        "best_val_accuracy": study.best_value,
        "best_params": study.best_params,
        "trials": len(study.trials),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        "curve": ends,
    }


def cell(config: dict[str, Any]) -> dict[str, Any]:
    """One seed: Optuna alone, then gapsearch, then both chosen configurations trained again."""
    started = time.time()
    alone = run_side(MODULE, "optuna", {**config, "name": f"{config['name']}-optuna", "started": started})
    alone["seconds"] = time.time() - started
    ours = run_gapsearch({**config, "name": f"{config['name']}-gs"})
    for side in (alone, ours):
        side["retrained"] = run_side(SEARCH_MODULE, "retrain", {**config, "params": side["best_params"]})[
            "val_accuracy"
        ]
    return {
        "seed": config["seed"],
        "optuna": alone,
        "gapsearch": ours,
        "time_ratio": ours["seconds"] / alone["seconds"],
        "retrained_difference_points": 100
        * (statistics.fmean(ours["retrained"]) - statistics.fmean(alone["retrained"])),
    }


def summarize(cells: list[dict[str, Any]]) -> dict[str, Any]:
    from gapsearch.stats import summarize as interval

    return {
        "cells": len(cells),
        "time_ratio_median": round(statistics.median(c["time_ratio"] for c in cells), 3),
        "time_ratio_range": [
            round(min(c["time_ratio"] for c in cells), 3),
            round(max(c["time_ratio"] for c in cells), 3),
        ],
        "seconds_median": {
            side: round(statistics.median(c[side]["seconds"] for c in cells), 1) for side in ("gapsearch", "optuna")
        },
        "pruned_median": {
            side: statistics.median(c[side]["pruned"] for c in cells) for side in ("gapsearch", "optuna")
        },
        "retrained": {
            side: interval([v for c in cells for v in c[side]["retrained"]]).as_dict()
            for side in ("gapsearch", "optuna")
        },
        "retrained_difference": interval([c["retrained_difference_points"] / 100 for c in cells]).as_dict(),
        "retrained_difference_points_median": round(
            statistics.median(c["retrained_difference_points"] for c in cells), 2
        ),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    n_trials = 3 if quick else 10
    seeds = SEEDS[:1] if quick else SEEDS
    load_before = load_average()
    started = time.perf_counter()
    cells = []
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        for number, seed in enumerate(seeds, start=1):
            config = {
                "folder": tmp,
                "name": f"o{number}",
                "space": SPACE,
                "dataset": "mr",
                "seed": seed,
                "n_trials": n_trials,
                "equal": False,
            }
            cells.append(cell(config))
            print(
                f"[{number}/{len(seeds)}] seed {seed}: time ratio {cells[-1]['time_ratio']:.3f}, retrained difference "
                f"{cells[-1]['retrained_difference_points']:+.2f} points ({time.perf_counter() - started:.0f}s so far)",
                flush=True,
            )
    summary = summarize(cells)
    print(summary)
    write_results(
        "optuna_alone",
        {
            "what": f"{n_trials}-trial searches of (b)'s space '{SPACE}' on MR, gapsearch (`gapsearch run`) against "
            f"a hand-written Optuna study with optuna-integration's KerasPruningCallback, {len(seeds)} seeds",
            "space": SPACES[SPACE],
            "fixed": FIXED,
            "seeds": list(seeds),
            "differences": {name: list(sides) for name, sides in DIFFERENCES.items()},
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "seconds": round(time.perf_counter() - started, 1),
            "summary": summary,
            "cells": cells,
        },
    )


if __name__ == "__main__":
    run_script(main, {"optuna": side_optuna})
