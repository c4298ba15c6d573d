"""What each tool's trial costs beyond the table's training: the replays' per-trial and per-epoch overheads.

The learning-curve table records a trial's training as gapsearch's ``fit_run`` does it (building, tracing,
fitting and validating). Each tool's trial costs that plus its own work around it, and its training may
itself be faster or slower than gapsearch's (KerasTuner's and Optuna's users call plain ``model.fit``). So
each side trains the same configuration of the grid, on the same arrays (gapsearch's vectorization of MR,
the table's validation split), for 1 and then 3 epochs, :data:`TRIALS` trials each, in a fresh process,
timed from the end of its first trial to the end of its last:

- ``table``: :func:`gapsearch.search.runs.fit_run` as :mod:`tests.benchmarks.curves` calls it;
- ``gapsearch``: ``gapsearch run`` on a study file of that one configuration, every other setting at its
  default but the pruner (none) and early stopping (off), so that every trial trains every epoch
  (Optuna's own timestamps of each trial's end);
- ``kerastuner``: ``RandomSearch`` over the same configuration (gapsearch's builder, as benchmark (b)
  builds KerasTuner's models; the dropout drawn from values a thousandth apart, since KerasTuner stops
  when no new values are left), ``tuner.search`` with KerasTuner's defaults;
- ``optuna``: Optuna's Keras example: an in-memory study, ``model.fit`` with optuna-integration's
  ``KerasPruningCallback``, ``model.evaluate`` after it.

Per side, the seconds per trial at 1 and 3 epochs give a line: a per-trial part and a per-epoch part.
Each tool's overhead is its line minus the table's, and the replays add it to every trial they simulate.

    python -m tests.benchmarks.replay_overheads [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.benchmarks._common import load_average, quiet_keras, run_script, run_side, write_results
from tests.benchmarks.curves import FIXED, GRID, configurations, data_section, sequence_length

MODULE = "tests.benchmarks.replay_overheads"
#: A configuration of middling cost from the grid.
CONFIG = {
    "embedding_dim": 128,
    "pooling": "average",
    "filters": 64,
    "kernel_size": 3,
    "learning_rate": 5.0e-4,
    "dropout": 0.5,
}
EPOCHS = (1, 3)
TRIALS = 4
SIDES = ("table", "gapsearch", "kerastuner", "optuna")


def _study(folder: Path, epochs: int, trials: int) -> dict[str, Any]:
    return {
        "name": "overheads",
        "metric": "val_accuracy",
        "direction": "maximize",
        "n_trials": trials,
        "seed": 0,
        "pruner": {"type": "none"},
        "data": data_section("mr"),
        "model": {**FIXED, **{k: v for k, v in CONFIG.items() if k != "dropout"}, "epochs": epochs},
        "search_space": {"dropout": [CONFIG["dropout"]]},
    }


def _arrays(folder: Path, epochs: int, trials: int) -> tuple[Any, Any, Any]:
    from gapsearch.search.runner import load_data
    from gapsearch.spec import load_study

    path = folder / "overheads.yaml"
    path.write_text(yaml.safe_dump(_study(folder, epochs, trials), sort_keys=False))
    spec = load_study(path)
    data = load_data(spec)
    length = sequence_length(spec, data)
    return spec, data, length


def side_table(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    from gapsearch.search.runs import TrainingRun, fit_run
    from gapsearch.search.space import hyperparameters

    folder = Path(config["folder"])
    spec, data, length = _arrays(folder, config["epochs"], config["trials"])
    hp = hyperparameters(spec.fixed, {"dropout": CONFIG["dropout"]}).model_copy(update={"sequence_length": length})
    (name, arrays), *_ = data.runs(hp.max_tokens, length)
    ends = []
    for seed in range(config["trials"]):
        fit_run(
            hp,
            TrainingRun(name=name, seed=seed + 1, data=arrays),
            n_classes=len(data.info.class_names),
            task=data.info.task,
            monitor=spec.monitored,
            metrics=spec.compiled_metrics,
            latency=False,
            confusion=True,
        )
        ends.append(time.perf_counter())
    return {"seconds_per_trial": per_trial(ends)}


def side_gapsearch(config: dict[str, Any]) -> dict[str, Any]:
    import optuna

    from tests.benchmarks._common import gapsearch_cli

    folder = Path(config["folder"])
    path = folder / "overheads.yaml"
    path.write_text(yaml.safe_dump(_study(folder, config["epochs"], config["trials"]), sort_keys=False))
    gapsearch_cli("run", path.name, "--no-progress", cwd=folder)
    trials = optuna.load_study(study_name="overheads", storage=f"sqlite:///{folder}/gapsearch.db").trials
    return {"seconds_per_trial": per_trial(sorted(t.datetime_complete.timestamp() for t in trials))}


def _plain_keras(config: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What a side that calls ``model.fit`` itself trains on: the study, the run's arrays, and ``build(dropout)``,
    which builds the configuration with gapsearch's builder (as benchmark (b) builds KerasTuner's models)."""
    from gapsearch.models.builder import build_model
    from gapsearch.search.space import hyperparameters

    spec, data, length = _arrays(Path(config["folder"]), config["epochs"], config["trials"])
    (_, arrays), *_ = data.runs(spec.fixed["max_tokens"], length)

    def build(dropout: float) -> Any:
        hp = hyperparameters(spec.fixed, {"dropout": dropout}).model_copy(update={"sequence_length": length})
        return build_model(
            hp, vocabulary_size=arrays.vocabulary_size, n_classes=len(data.info.class_names), metrics=["accuracy"]
        )

    return spec, arrays, build


def side_kerastuner(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    import keras_tuner

    folder = Path(config["folder"])
    spec, arrays, build = _plain_keras(config)
    dropouts = [round(CONFIG["dropout"] + i / 1000, 3) for i in range(config["trials"])]
    ends: list[float] = []

    class Timed(keras_tuner.RandomSearch):
        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            ends.append(time.perf_counter())

    tuner = Timed(
        lambda hp: build(hp.Choice("dropout", dropouts)),
        objective="val_accuracy",
        max_trials=config["trials"],
        seed=0,
        directory=str(folder / "kerastuner"),
        project_name="overheads",
        overwrite=True,
    )
    tuner.search(
        arrays.x_train,
        arrays.y_train,
        validation_data=(arrays.x_validation, arrays.y_validation),
        epochs=config["epochs"],
        batch_size=spec.fixed["batch_size"],
        verbose=0,
    )
    return {"seconds_per_trial": per_trial(ends)}


def side_optuna(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    import keras
    import optuna
    from optuna_integration import KerasPruningCallback

    spec, arrays, build = _plain_keras(config)

    def objective(trial: optuna.Trial) -> float:
        keras.backend.clear_session()
        model = build(trial.suggest_categorical("dropout", [CONFIG["dropout"]]))
        model.fit(
            arrays.x_train,
            arrays.y_train,
            batch_size=spec.fixed["batch_size"],
            callbacks=[KerasPruningCallback(trial, "val_accuracy")],
            epochs=config["epochs"],
            validation_data=(arrays.x_validation, arrays.y_validation),
            verbose=0,
        )
        return float(model.evaluate(arrays.x_validation, arrays.y_validation, verbose=0)[1])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner())
    ends: list[float] = []
    study.optimize(objective, n_trials=config["trials"], callbacks=[lambda *_: ends.append(time.perf_counter())])
    return {"seconds_per_trial": per_trial(ends)}


def per_trial(ends: list[float]) -> float:
    """Seconds per trial between the first trial's end and the last's: the first trial, which also pays the
    process's one-time start of the backend, is left out on every side alike."""
    return (ends[-1] - ends[0]) / (len(ends) - 1)


def fit_lines(runs: dict[str, dict[int, list[float]]]) -> dict[str, dict[str, float]]:
    """Per side, the median seconds per trial at each epoch count, as ``per_trial + per_epoch * epochs``."""
    low, high = EPOCHS
    lines = {}
    for side, by_epochs in runs.items():
        at_low, at_high = statistics.median(by_epochs[low]), statistics.median(by_epochs[high])
        per_epoch = (at_high - at_low) / (high - low)
        lines[side] = {"per_trial": at_low - per_epoch * low, "per_epoch": per_epoch}
    return lines


def overheads(lines: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each tool's line minus the table's: what the replays add to each simulated trial."""
    base = lines["table"]
    return {
        side: {part: round(line[part] - base[part], 3) for part in ("per_trial", "per_epoch")}
        for side, line in lines.items()
        if side != "table"
    }


def main() -> None:
    quick = "--quick" in sys.argv
    rounds, trials = (1, 2) if quick else (3, TRIALS)  # the first trial of each process is not timed
    assert CONFIG in configurations() and set(CONFIG) == set(GRID)
    runs: dict[str, dict[int, list[float]]] = {side: {e: [] for e in EPOCHS} for side in SIDES}
    load_before = load_average()
    for round_number in range(rounds):
        for epochs in EPOCHS:
            for side in SIDES:
                with tempfile.TemporaryDirectory(prefix=f"replay-overheads-{side}-") as folder:
                    result = run_side(MODULE, side, {"folder": folder, "epochs": epochs, "trials": trials})
                runs[side][epochs].append(result["seconds_per_trial"])
                print(f"round {round_number + 1} {epochs} epochs {side}: {result['seconds_per_trial']:.2f}s/trial")
    lines = fit_lines(runs)
    write_results(
        "replay_overheads",
        {
            "config": CONFIG,
            "epochs": list(EPOCHS),
            "trials_per_process": trials,
            "rounds": rounds,
            "runs": {side: {str(e): [round(s, 3) for s in v] for e, v in by.items()} for side, by in runs.items()},
            "lines": {side: {k: round(v, 3) for k, v in line.items()} for side, line in lines.items()},
            "overheads": overheads(lines),
            "load_before": load_before,
            "load_after": load_average(),
        },
    )


if __name__ == "__main__":
    run_script(
        main,
        {"table": side_table, "gapsearch": side_gapsearch, "kerastuner": side_kerastuner, "optuna": side_optuna},
    )
