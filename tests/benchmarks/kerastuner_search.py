"""(b) gapsearch against KerasTuner RandomSearch, each as its users run it, and at equal compute.

Three search spaces of the kind a KerasTuner user writes, on two datasets (MR, with 20% of its
rows held out for validation; SST-5, with its dev set), three seeds per side, the same number of
trials. Both sides build their models with gapsearch's builder (the same masked layers), on the same
vectorized arrays; the test sets are not read.

- **Default against default:** ``gapsearch run study.yaml`` in a fresh process, with every setting
  the space and :data:`FIXED` leave open at gapsearch's default (TPE, successive halving as
  benchmark (b2) chose it, length buckets, early stopping); KerasTuner's
  ``RandomSearch(build, max_trials=N)`` and ``tuner.search`` in a fresh process, with its
  defaults. Wall time is each process from start to exit.
- **Equal compute:** the same, with gapsearch's pruning, buckets and early stopping off
  (``pruner: none``, ``length_buckets: 0``, ``patience: 0``) and KerasTuner's validation batch set
  to gapsearch's (256): the same epochs of the same models, only the samplers differ.

- **Two workers:** the default row's gapsearch studies of MR's first space again with ``workers:
  {count: 2}`` (not gapsearch's default on a machine without a GPU, which is one worker), against the
  same cells' KerasTuner runs: what gapsearch's parallel workers give on this machine's cores.

Each tool's chosen configuration (its best trial) is then trained again on three new seeds, the
same way for both (``model.fit`` for the study's epochs, the best epoch's val_accuracy), so that
neither side is credited with its luckiest trial. Best-so-far validation accuracy against wall time
is kept per trial for the plot.

    python -m tests.benchmarks.kerastuner_search [--quick]

Each finished cell is kept in ``build/bench/kerastuner_search.partial.json``; a run that is stopped
starts again where it stopped (the same plan), and the file goes when the results are written.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.benchmarks._common import (
    DATASETS,
    ROOT,
    gapsearch_cli,
    load_average,
    prepare_mr,
    quiet_keras,
    run_script,
    run_side,
    write_results,
)

MODULE = "tests.benchmarks.kerastuner_search"
#: The search spaces, in gapsearch's study-file form; KerasTuner's ``build(hp)`` reads the same dicts.
SPACES: dict[str, dict[str, Any]] = {
    "width and rate": {
        "embedding_dim": [32, 64, 128],
        "pooling": ["average", "max"],
        "filters": {"low": 32, "high": 128, "step": 32},
        "kernel_size": [3, 5],
        "learning_rate": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
    },
    "regularization": {
        "embedding_dim": [32, 64, 128],
        "dropout": {"low": 0.0, "high": 0.5},
        "dense_units": [0, 64],
        "learning_rate": {"low": 1.0e-4, "high": 1.0e-2, "log": True},
    },
    "pooling": {
        "pooling": ["average", "max", "attention", "gem", "mixed"],
        "embedding_dim": [32, 64, 128],
        "filters": [64, 128],
    },
}
#: What both sides fix.
FIXED = {"max_tokens": 20000, "sequence_length": 56, "batch_size": 64, "epochs": 4}
#: Settings of the equal-compute row: gapsearch's savings off, KerasTuner given gapsearch's validation batch.
EQUAL_GAPSEARCH = {"pruner": {"type": "none"}, "model": {"length_buckets": 0, "patience": 0}}
EQUAL_VALIDATION_BATCH = 256
#: Settings of the two-workers row.
TWO_WORKERS = {"workers": {"count": 2}}
PARTIAL = ROOT / "build" / "bench" / "kerastuner_search.partial.json"
DATASET_NAMES = ("mr", "sst5")
SEEDS = (1, 2, 3)
RETRAIN_SEEDS = (101, 102, 103)


def data_section(name: str, folder: Path) -> dict[str, Any]:
    if name == "mr":
        return {
            "format": "tsv",
            "train": str(prepare_mr(folder)),
            "text": "text",
            "label": "label",
            "validation_split": 0.2,
        }
    return {
        "train": str(DATASETS / "sst5" / "train.tsv"),
        "validation": str(DATASETS / "sst5" / "dev.tsv"),
        "text": "sentence",
        "label": "label",
    }


def study(config: dict[str, Any]) -> dict[str, Any]:
    """The gapsearch study file of one cell: the space, :data:`FIXED`, and (equal compute) the savings off."""
    body: dict[str, Any] = {
        "name": config["name"],
        "metric": "val_accuracy",
        "direction": "maximize",
        "n_trials": config["n_trials"],
        "seed": config["seed"],
        "data": data_section(config["dataset"], Path(config["folder"])),
        "model": dict(FIXED),
        "search_space": SPACES[config["space"]],
    }
    if config["equal"]:
        body["pruner"] = EQUAL_GAPSEARCH["pruner"]
        body["model"] |= EQUAL_GAPSEARCH["model"]
    if config.get("two_workers"):
        body |= TWO_WORKERS
    if config.get("pruner"):  # benchmark (b2) tries the candidates for the default pruner
        body["pruner"] = config["pruner"]
    return body


def run_gapsearch(config: dict[str, Any]) -> dict[str, Any]:
    """``gapsearch run`` as a user runs it, in a fresh process: its wall time and every trial's end and value."""
    import optuna

    folder = Path(config["folder"])
    path = folder / f"{config['name']}.yaml"
    path.write_text(yaml.safe_dump(study(config), sort_keys=False))
    started = time.time()
    gapsearch_cli("run", path.name, "--no-progress", "--storage", f"sqlite:///{config['name']}.db", cwd=folder)
    seconds = time.time() - started
    loaded = optuna.load_study(study_name=config["name"], storage=f"sqlite:///{folder / config['name']}.db")
    trials = loaded.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value)
    return {
        "seconds": seconds,
        "best_val_accuracy": best.value,
        "best_params": best.params,
        "trials": len(trials),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in trials),
        # (seconds since the process started, val_accuracy) of each finished trial, in the order they ended.
        "curve": sorted((t.datetime_complete.timestamp() - started, t.value) for t in complete),
    }


def cell_arrays(config: dict[str, Any], suffix: str = "") -> tuple[Any, int]:
    """The cell's vectorized arrays (gapsearch's, the same for every side) and its number of classes, read
    through the cell's study file, written to ``<name><suffix>.yaml`` in the cell's folder."""
    from gapsearch.search.runner import load_data
    from gapsearch.spec import load_study

    path = Path(config["folder"]) / f"{config['name']}{suffix}.yaml"
    path.write_text(yaml.safe_dump(study(config), sort_keys=False))
    splits = load_data(load_study(path))
    return splits.runs(FIXED["max_tokens"], FIXED["sequence_length"])[0][1], len(splits.info.class_names)


ENDS: list[tuple[float, float]] = []


def side_kerastuner(config: dict[str, Any]) -> dict[str, Any]:
    """KerasTuner's RandomSearch as its users run it (with ``validation_batch_size`` for equal compute)."""
    quiet_keras()
    import keras
    import keras_tuner

    from gapsearch.models.builder import build_model

    folder = Path(config["folder"])
    data, n_classes = cell_arrays(config)

    def build(hp: keras_tuner.HyperParameters) -> keras.Model:
        return build_model(
            hyperparameters(kerastuner_values(hp, SPACES[config["space"]])),
            vocabulary_size=data.vocabulary_size,
            n_classes=n_classes,
            metrics=["accuracy"],
        )

    class TrialEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            ENDS.append((time.time() - config["started"], max(self.model.history.history["val_accuracy"])))

    tuner = keras_tuner.RandomSearch(
        build,
        objective="val_accuracy",
        max_trials=config["n_trials"],
        seed=config["seed"],
        directory=str(folder / "kerastuner"),
        project_name=config["name"],
        overwrite=True,
    )
    extra = {"validation_batch_size": EQUAL_VALIDATION_BATCH} if config["equal"] else {}
    tuner.search(
        data.x_train,
        data.y_train,
        validation_data=(data.x_validation, data.y_validation),
        epochs=FIXED["epochs"],
        batch_size=FIXED["batch_size"],
        callbacks=[TrialEnd()],
        verbose=0,
        **extra,
    )
    best = tuner.oracle.get_best_trials(1)[0]
    return {
        "best_val_accuracy": best.score,
        "best_params": dict(best.hyperparameters.values),
        "trials": len(tuner.oracle.trials),
        "curve": ENDS,
    }


def kerastuner_values(hp: Any, space: dict[str, Any]) -> dict[str, Any]:
    """KerasTuner's draw of each parameter of a gapsearch search space: a list is ``Choice``, a range
    with a step ``Int``, a range of floats ``Float`` (log-uniform with ``log``)."""
    values: dict[str, Any] = {}
    for name, values_or_range in space.items():
        if isinstance(values_or_range, list):
            values[name] = hp.Choice(name, values_or_range)
        elif "step" in values_or_range:
            values[name] = hp.Int(name, values_or_range["low"], values_or_range["high"], step=values_or_range["step"])
        else:
            sampling = "log" if values_or_range.get("log") else "linear"
            values[name] = hp.Float(name, values_or_range["low"], values_or_range["high"], sampling=sampling)
    return values


def hyperparameters(values: dict[str, Any]):
    from gapsearch.spec import Hyperparameters

    return Hyperparameters(**FIXED, **values)


def side_retrain(config: dict[str, Any]) -> dict[str, Any]:
    """A chosen configuration trained again on new seeds, the same way for both tools: ``model.fit`` for
    the study's epochs on the same arrays, the best epoch's val_accuracy."""
    quiet_keras()
    import keras

    from gapsearch.models.builder import build_model

    data, n_classes = cell_arrays(config, "-retrain")
    hp = hyperparameters(config["params"]).model_copy(update={"length_buckets": 0})
    values = []
    for seed in RETRAIN_SEEDS:
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = build_model(hp, vocabulary_size=data.vocabulary_size, n_classes=n_classes, metrics=["accuracy"])
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_data=(data.x_validation, data.y_validation),
            epochs=FIXED["epochs"],
            batch_size=FIXED["batch_size"],
            validation_batch_size=EQUAL_VALIDATION_BATCH,
            verbose=0,
        )
        values.append(max(history.history["val_accuracy"]))
    return {"val_accuracy": values}


def first_reaching(curve: list[list[float]], target: float) -> float | None:
    """Seconds until a trial first reached ``target`` (None if none did)."""
    return next((seconds for seconds, value in curve if value >= target), None)


def cell(config: dict[str, Any], kerastuner: dict[str, Any] | None = None) -> dict[str, Any]:
    """One space, dataset, seed and row: KerasTuner (or ``kerastuner``, the same cell's run of another
    row), then gapsearch, then the chosen configurations again."""
    if kerastuner is None:
        kt_started = time.time()
        kt = run_side(MODULE, "kerastuner", {**config, "name": f"{config['name']}-kt", "started": kt_started})
        kt["seconds"] = time.time() - kt_started
        kt["retrained"] = run_side(MODULE, "retrain", {**config, "params": kt["best_params"]})["val_accuracy"]
    else:
        kt = kerastuner
    ours = run_gapsearch({**config, "name": f"{config['name']}-gs"})
    ours["retrained"] = run_side(MODULE, "retrain", {**config, "params": ours["best_params"]})["val_accuracy"]
    reached = first_reaching(ours["curve"], kt["best_val_accuracy"])
    return {
        **{key: config[key] for key in ("space", "dataset", "seed", "n_trials", "equal")},
        "two_workers": bool(config.get("two_workers")),
        "kerastuner": kt,
        "gapsearch": ours,
        "time_ratio": ours["seconds"] / kt["seconds"],
        "retrained_difference_points": 100 * (statistics.fmean(ours["retrained"]) - statistics.fmean(kt["retrained"])),
        "seconds_to_kerastuner_best": reached,
        "time_to_kerastuner_best_ratio": None if reached is None else reached / kt["seconds"],
    }


def summarize_row(cells: list[dict[str, Any]]) -> dict[str, Any]:
    from gapsearch.stats import summarize

    def median(key: str) -> float:
        return statistics.median(c[key] for c in cells)

    # A cell where gapsearch never reached KerasTuner's final best counts as never (infinitely late): the
    # median is a share of KerasTuner's time only where more than half the cells reached it.
    to_best = statistics.median(
        math.inf if c["time_to_kerastuner_best_ratio"] is None else c["time_to_kerastuner_best_ratio"] for c in cells
    )
    differences = [c["retrained_difference_points"] / 100 for c in cells]
    return {
        "cells": len(cells),
        "time_ratio_median": round(median("time_ratio"), 3),
        "time_ratio_range": [
            round(min(c["time_ratio"] for c in cells), 3),
            round(max(c["time_ratio"] for c in cells), 3),
        ],
        "retrained_difference_points_median": round(median("retrained_difference_points"), 2),
        "retrained_difference": summarize(differences).as_dict(),
        "reached_kerastuner_best": sum(c["seconds_to_kerastuner_best"] is not None for c in cells),
        "time_to_kerastuner_best_ratio_median": None if math.isinf(to_best) else round(to_best, 3),
        "gapsearch_best_trial_median": round(statistics.median(c["gapsearch"]["best_val_accuracy"] for c in cells), 4),
        "kerastuner_best_trial_median": round(
            statistics.median(c["kerastuner"]["best_val_accuracy"] for c in cells), 4
        ),
        "gapsearch_pruned_median": statistics.median(c["gapsearch"]["pruned"] for c in cells),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    n_trials = 3 if quick else 10
    spaces = list(SPACES)[:1] if quick else list(SPACES)
    datasets = DATASET_NAMES[:1] if quick else DATASET_NAMES
    seeds = SEEDS[:1] if quick else SEEDS
    load_before = load_average()
    rows: dict[str, list[dict[str, Any]]] = {"default": [], "equal_compute": [], "two_workers": []}
    plan = [("default", space, dataset, seed) for seed in seeds for dataset in datasets for space in spaces]
    # Equal compute on MR's first space: the same epochs of the same models, only the samplers differ.
    plan += [("equal_compute", spaces[0], "mr", seed) for seed in seeds]
    plan += [("two_workers", spaces[0], "mr", seed) for seed in seeds]
    done, spent = _partial(plan, n_trials)
    started = time.perf_counter() - spent
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        for number, (row, space, dataset, seed) in enumerate(plan, start=1):
            if number <= len(done):
                rows[row].append(done[number - 1])
                continue
            config = {
                "folder": tmp,
                "name": f"c{number}",
                "space": space,
                "dataset": dataset,
                "seed": seed,
                "n_trials": n_trials,
                "equal": row == "equal_compute",
                "two_workers": row == "two_workers",
            }
            same_cell = next(
                (
                    c["kerastuner"]
                    for c in rows["default"]
                    if (c["space"], c["dataset"], c["seed"]) == (space, dataset, seed)
                ),
                None,
            )
            result = cell(config, same_cell if row == "two_workers" else None)
            rows[row].append(result)
            done.append(result)
            PARTIAL.parent.mkdir(parents=True, exist_ok=True)
            PARTIAL.write_text(
                json.dumps(
                    {"plan": plan, "n_trials": n_trials, "seconds": time.perf_counter() - started, "cells": done}
                )
            )
            print(
                f"[{number}/{len(plan)}] {row} {space} / {dataset} / seed {seed}: time ratio "
                f"{result['time_ratio']:.3f}, retrained difference {result['retrained_difference_points']:+.2f} "
                f"points, to KerasTuner's best {result['time_to_kerastuner_best_ratio']} "
                f"({time.perf_counter() - started:.0f}s so far)",
                flush=True,
            )
    load_after = load_average()
    summary = {row: summarize_row(cells) for row, cells in rows.items() if cells}
    print(summary)
    write_results(
        "kerastuner_search",
        {
            "what": f"{n_trials}-trial searches, gapsearch (`gapsearch run`) against KerasTuner 1.4.8 RandomSearch, "
            f"{len(spaces)} search spaces x {len(datasets)} datasets x {len(seeds)} seeds, default against "
            f"default; equal compute and gapsearch with two workers on MR's first space ({len(seeds)} seeds)",
            "gapsearch_defaults": search_defaults(),
            "spaces": {name: SPACES[name] for name in spaces},
            "fixed": FIXED,
            "datasets": list(datasets),
            "seeds": list(seeds),
            "retrain_seeds": list(RETRAIN_SEEDS),
            "equal_compute_settings": {"gapsearch": EQUAL_GAPSEARCH, "kerastuner_validation_batch_size": 256},
            "two_workers_settings": TWO_WORKERS,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "seconds": round(time.perf_counter() - started, 1),
            "summary": summary,
            "cells": rows,
        },
    )
    PARTIAL.unlink(missing_ok=True)


def search_defaults() -> dict[str, Any]:
    """The sampler and pruner gapsearch's side ran with (its defaults when this benchmark ran)."""
    from gapsearch.spec.study import StudySpec

    return {
        field: StudySpec.model_fields[field].get_default(call_default_factory=True).model_dump(exclude_none=True)
        for field in ("sampler", "pruner")
    }


def _partial(plan: list[tuple[str, str, str, int]], n_trials: int) -> tuple[list[dict[str, Any]], float]:
    """The cells a stopped run of the same plan finished, and the seconds it had spent."""
    try:
        kept = json.loads(PARTIAL.read_text())
    except (OSError, ValueError):
        return [], 0.0
    if [tuple(step) for step in kept["plan"]] != plan or kept["n_trials"] != n_trials:
        return [], 0.0
    print(f"going on from {PARTIAL.relative_to(ROOT)}: {len(kept['cells'])} of {len(plan)} cells done", flush=True)
    return kept["cells"], kept["seconds"]


if __name__ == "__main__":
    run_script(main, {"kerastuner": side_kerastuner, "retrain": side_retrain})
