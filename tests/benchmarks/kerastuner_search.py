"""(b) A 20-trial random search on MR by gapsearch and by KerasTuner; then Hyperband against Hyperband.

Both sides search the same space (embedding_dim, pooling, filters) over the same model
(gapsearch's builder, so the masked pooling layers are the same), with the same epochs, batch
size, data and splits, under the TensorFlow backend in one process each. The KerasTuner side
is what a Keras user writes: a ``build(hp)`` function and ``tuner.search`` on padded arrays. The
gapsearch side is a study file run by ``run_study`` with its fast-trial options on. Wall time
covers reading the data, vectorizing it and the whole search, on each side.

KerasTuner's RandomSearch never tries a combination twice (it draws again when it meets one it has
tried), so gapsearch's side of the same search is ``sampler: grid``: Optuna's GridSampler, which
visits the combinations once each in an order shuffled from the seed. gapsearch's ``sampler:
random`` (Optuna's RandomSampler, which draws each parameter independently and so may repeat a
combination) runs as a third side, for comparison.

    python -m tests.benchmarks.kerastuner_search [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import time
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

MODULE = "tests.benchmarks.kerastuner_search"
SPACE = {"embedding_dim": [32, 64, 128], "pooling": ["average", "max", "attention"], "filters": [32, 64, 128]}
FIXED = {"max_tokens": 20000, "sequence_length": 56, "batch_size": 32, "patience": 0}
GAPSEARCH_SPEED = {"length_buckets": 4}  # steps_per_execution is "auto" by default: 8 under TensorFlow
SEED = 1
REPEATS = "gapsearch_random_sampler"  # the side with gapsearch's random sampler, which may repeat a combination


def study_text(tsv: Path, name: str, *, epochs: int, n_trials: int, pruner: str, sampler: str = "grid") -> str:
    model = {**FIXED, "epochs": epochs, **GAPSEARCH_SPEED}
    lines = [
        f"name: {name}",
        "metric: val_accuracy",
        "direction: maximize",
        f"n_trials: {n_trials}",
        f"seed: {SEED}",
        f"sampler: {{type: {sampler}}}",
        f"pruner: {pruner}",
        f"data: {{format: tsv, train: {tsv}, text: text, label: label, validation_split: 0.2}}",
        "model:",
        *(f"  {key}: {value}" for key, value in model.items()),
        "search_space:",
        *(f"  {key}: [{', '.join(map(str, values))}]" for key, values in SPACE.items()),
    ]
    return "\n".join(lines) + "\n"


def _spec(folder: Path, config: dict[str, Any], name: str):
    from gapsearch.spec import load_study

    path = folder / f"{name}.yaml"
    path.write_text(
        study_text(
            prepare_mr(folder),
            name,
            epochs=config["epochs"],
            n_trials=config["n_trials"],
            pruner=config["pruner"],
            sampler=config.get("sampler", "grid"),
        )
    )
    return load_study(path)


def side_gapsearch(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    import optuna

    from gapsearch.trial_attrs import TrialResult
    from gapsearch.workers.launch import run_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = Path(config["folder"])
    name = f"mr-{time.time_ns()}"
    spec = _spec(folder, config, name)
    url = f"sqlite:///{folder / f'{name}.db'}"
    started = time.perf_counter()
    outcome = run_study(spec, storage_url=url)
    seconds = time.perf_counter() - started
    trials = optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    return {
        "seconds": seconds,
        "best_val_accuracy": outcome.best_trial.value if outcome.best_trial else None,
        "best_params": outcome.best_trial.params if outcome.best_trial else None,
        "trials": len(finished),
        "pruned": sum(t.state.name == "PRUNED" for t in finished),
        "epochs_trained": sum(TrialResult.read(t).epochs_run or 0 for t in finished),
        "combinations": len({tuple(sorted(t.params.items())) for t in finished}),
    }


EPOCHS_TRAINED = 0


def side_kerastuner(config: dict[str, Any]) -> dict[str, Any]:
    quiet_keras()
    import keras
    import keras_tuner

    from gapsearch.models.builder import build_model
    from gapsearch.search.runner import load_data
    from gapsearch.spec import Hyperparameters

    folder = Path(config["folder"])
    spec = _spec(folder, config, "kerastuner")
    started = time.perf_counter()
    splits = load_data(spec)
    data = splits.runs(FIXED["max_tokens"], FIXED["sequence_length"])[0][1]
    n_classes = len(splits.info.class_names)

    def build(hp: keras_tuner.HyperParameters) -> keras.Model:
        values = {name: hp.Choice(name, choices) for name, choices in SPACE.items()}
        model_hp = Hyperparameters(**FIXED, epochs=config["epochs"], **values)
        # Compiled for the objective alone, as a KerasTuner user writes it and as gapsearch's trials are;
        # gapsearch's builder also gives it steps_per_execution "auto" (8 under TensorFlow), not Keras' 1.
        return build_model(model_hp, vocabulary_size=data.vocabulary_size, n_classes=n_classes, metrics=["accuracy"])

    class CountEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            global EPOCHS_TRAINED
            EPOCHS_TRAINED += 1

    common = {
        "objective": "val_accuracy",
        "seed": SEED,
        "directory": str(folder / "kerastuner"),
        "project_name": f"mr-{time.time_ns()}",
        "overwrite": True,
    }
    if config["tuner"] == "random":
        tuner = keras_tuner.RandomSearch(build, max_trials=config["n_trials"], **common)
    else:
        tuner = keras_tuner.Hyperband(build, max_epochs=config["epochs"], factor=3, hyperband_iterations=1, **common)
    tuner.search(
        data.x_train,
        data.y_train,
        validation_data=(data.x_validation, data.y_validation),
        epochs=config["epochs"],
        batch_size=FIXED["batch_size"],
        callbacks=[CountEpochs()],
        verbose=0,
    )
    seconds = time.perf_counter() - started
    best = tuner.oracle.get_best_trials(1)[0]
    return {
        "seconds": seconds,
        "best_val_accuracy": best.score,
        "best_params": best.hyperparameters.values,
        "trials": len(tuner.oracle.trials),
        "epochs_trained": EPOCHS_TRAINED,
        "combinations": len(
            {
                tuple(sorted((k, v) for k, v in t.hyperparameters.values.items() if not k.startswith("tuner/")))
                for t in tuner.oracle.trials.values()
            }
        ),  # Hyperband's own bookkeeping (tuner/epochs, ...) left out
    }


def _summary(runs: dict[str, list], ours: str, theirs: str) -> dict[str, Any]:
    gap, kt = median_of(runs[ours], "seconds"), median_of(runs[theirs], "seconds")
    gap_best, kt_best = median_of(runs[ours], "best_val_accuracy"), median_of(runs[theirs], "best_val_accuracy")
    return {
        "gapsearch_seconds": round(gap, 1),
        "kerastuner_seconds": round(kt, 1),
        "time_ratio": round(gap / kt, 3),
        "gapsearch_best_val_accuracy": round(gap_best, 4),
        "kerastuner_best_val_accuracy": round(kt_best, 4),
        "accuracy_difference_points": round(100 * (gap_best - kt_best), 2),
        # Rounds take turns (KerasTuner, then gapsearch), so each pair met the same machine.
        "round_ratios": [round(g["seconds"] / k["seconds"], 3) for g, k in zip(runs[ours], runs[theirs], strict=True)],
    }


def main() -> None:
    quick = "--quick" in sys.argv
    rounds, n_trials, epochs = (1, 3, 2) if quick else (3, 20, 3)
    hyperband_epochs = 3
    hyperband_rounds = 1  # keeps `make bench` modest; Hyperband's figures are one run each
    with tempfile.TemporaryDirectory(prefix="gapsearch-bench-") as tmp:
        prepare_mr(Path(tmp))
        random_config = {"folder": tmp, "epochs": epochs, "n_trials": n_trials, "pruner": "{type: median}"}
        load_before = load_average()
        print(f"(b) {n_trials}-trial random search on MR, {epochs} epochs, {rounds} rounds")
        samplers = {"gapsearch": "grid", REPEATS: "random"}  # gapsearch's sides and their samplers
        random_runs = interleaved(
            ["kerastuner", *samplers],
            rounds,
            lambda side: run_side(
                MODULE,
                "kerastuner" if side == "kerastuner" else "gapsearch",
                {**random_config, "tuner": "random", "sampler": samplers.get(side, "grid")},
            ),
        )
        print(f"Hyperband (max_epochs {hyperband_epochs}, factor 3) against gapsearch's Hyperband pruner")
        hyperband_runs: dict[str, list] = {"kerastuner": [], "gapsearch": []}
        for _ in range(hyperband_rounds):
            kt = run_side(MODULE, "kerastuner", {**random_config, "epochs": hyperband_epochs, "tuner": "hyperband"})
            hyperband_runs["kerastuner"].append(kt)
            print(f"  kerastuner hyperband: {kt['seconds']:.1f}s, {kt['trials']} trials", flush=True)
            ours = run_side(
                MODULE,
                "gapsearch",
                {
                    **random_config,
                    "epochs": hyperband_epochs,
                    "n_trials": kt["trials"],  # the same budget: as many trials as KerasTuner ran
                    "pruner": "{type: hyperband, min_resource: 1, reduction_factor: 3}",
                },
            )
            hyperband_runs["gapsearch"].append(ours)
            print(f"  gapsearch hyperband: {ours['seconds']:.1f}s, {ours['trials']} trials", flush=True)
        load_after = load_average()

    random_summary = _summary(random_runs, "gapsearch", "kerastuner")
    repeats_summary = _summary(random_runs, REPEATS, "kerastuner")
    hyperband_summary = _summary(hyperband_runs, "gapsearch", "kerastuner")
    print(f"(b) random search: {random_summary}")
    print(f"    with gapsearch's random sampler: {repeats_summary}")
    print(f"    hyperband: {hyperband_summary}")
    write_results(
        "kerastuner_search",
        {
            "what": f"{n_trials}-trial random search on MR (sequence_length 56, {epochs} epochs, batch 32; gapsearch "
            "without repeats, `sampler: grid`, as KerasTuner's RandomSearch), then "
            f"Hyperband (max_epochs {hyperband_epochs}, factor 3; gapsearch gets as many trials as KerasTuner ran)",
            "space": SPACE,
            "fixed": FIXED,
            "gapsearch_speed_options": GAPSEARCH_SPEED,
            "rounds": rounds,
            "hyperband_rounds": hyperband_rounds,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "random_search": random_summary,
            "random_search_runs": random_runs,
            "random_search_with_repeats": repeats_summary,
            "hyperband": hyperband_summary,
            "hyperband_runs": hyperband_runs,
        },
    )


if __name__ == "__main__":
    run_script(main, {"gapsearch": side_gapsearch, "kerastuner": side_kerastuner})
