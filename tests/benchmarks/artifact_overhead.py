"""How long a trial's artifacts take to make and upload (curves, history, summary, confusion matrix, model).

Run from the repository root:  python -m tests.benchmarks.artifact_overhead [--repeats 5]
Prints the median seconds per trial for the quickstart study's model sizes, with and without the model file,
then the median of each piece a trial makes: the learning curves, the confusion matrix figure (its counts come
from training's own validation pass), the model file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import keras
    import optuna

    from gapsearch.models.builder import build_model
    from gapsearch.models.metrics import ConfusionCounts
    from gapsearch.search.artifacts import save_trial_artifacts
    from gapsearch.search.runner import load_data
    from gapsearch.search.space import hyperparameters
    from gapsearch.spec import load_study
    from gapsearch.training.fit import train

    spec = load_study(Path(__file__).resolve().parents[2] / "studies" / "quickstart.yaml")
    splits = load_data(spec)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        for save_models in ("none", "all"):
            timed_spec = spec.model_copy(
                update={"artifacts": spec.artifacts.model_copy(update={"save_models": save_models})}
            )
            study = optuna.create_study(storage=f"sqlite:///{folder}/b.db", direction="maximize")
            seconds = []
            for dim in [64] * args.repeats:
                hp = hyperparameters(spec.fixed, {"embedding_dim": dim, "pooling": "attention", "filters": 64})
                data = splits.runs(hp.max_tokens, hp.sequence_length)[0][1]
                counts = ConfusionCounts(2)
                model = build_model(
                    hp, vocabulary_size=data.vocabulary_size, n_classes=2, metrics=["accuracy"], extra_metrics=[counts]
                )
                result = train(
                    model,
                    data.x_train,
                    data.y_train,
                    data.x_validation,
                    data.y_validation,
                    metric=spec.metric,
                    direction=spec.direction,
                    epochs=1,
                    batch_size=64,
                    patience=0,
                    confusion=counts,
                )
                trial = study.ask()
                started = time.perf_counter()
                save_trial_artifacts(trial, timed_spec, splits, hp, data, result, result.best_value)
                seconds.append(time.perf_counter() - started)
                study.tell(trial, result.best_value)
                keras.backend.clear_session()
            print(
                f"save_models={save_models}: median {statistics.median(seconds):.2f}s per trial "
                f"(min {min(seconds):.2f}s, max {max(seconds):.2f}s, {args.repeats} trials, "
                f"embedding_dim=64 attention filters=64, {model.count_params():,} parameters)"
            )
        pieces = piece_seconds(spec, splits, hp, data, result, args.repeats)
        print("pieces (median seconds): " + ", ".join(f"{name} {value:.3f}" for name, value in pieces.items()))


def piece_seconds(spec, splits, hp, data, result, repeats: int) -> dict[str, float]:
    """Each piece of a trial's artifacts on its own, on a newly built model (its weights do not change the time)."""
    import keras

    from gapsearch import plots
    from gapsearch.data.dataset import text_settings
    from gapsearch.models.builder import build_model
    from gapsearch.models.text_classifier import TextClassifier

    class_names = splits.info.class_names
    times: dict[str, list[float]] = {"learning curves": [], "confusion PNG": [], "model file": []}
    for _ in range(repeats):
        keras.backend.clear_session()
        model = build_model(hp, vocabulary_size=data.vocabulary_size, n_classes=2, metrics=["accuracy"])
        started = time.perf_counter()
        plots.learning_curves(result.history, best_epoch=result.best_epoch, title="trial")
        times["learning curves"].append(time.perf_counter() - started)
        started = time.perf_counter()
        plots.confusion_matrix(result.confusion, class_names, title="trial")
        times["confusion PNG"].append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            TextClassifier.from_trained(
                model, data.vocabulary, text_settings(spec.data), int(hp.sequence_length), class_names
            ).save(Path(folder, "model.keras"))
            times["model file"].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


if __name__ == "__main__":
    main()
