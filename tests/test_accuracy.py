"""Quality anchors on real data: a fixed CNN-rand-like configuration (Kim 2014) from the shipped studies.

Each test loads the study file users run, fixes the searched parameters (embedding dimension and
max pooling) and trains once through gapsearch's own data pipeline, builder and training loop.
MR is judged on one held-out fold of its 10 (the study itself averages all ten), at the epoch that
the fold's inner validation split chose, as a trial does: the fold chooses nothing. SST-2 and IMDB
are judged on their test sets, as `gapsearch evaluate` does:
train on train for a fixed number of epochs, then measure on test once. The epochs were chosen on
the validation data, never on the test sets (SST-2 dev: 83.3% after 1 epoch), or fewer than
they chose, to keep the suite short (IMDB: 2 epochs, where its held-out 20% chose 3); one filter
width instead of the studies' three, for the same reason. The three together take about a minute
and a half on 2 CPU cores; `python -m tests.benchmarks.accuracy` measures the shipped studies whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gapsearch.data.dataset import load_splits
from gapsearch.search.space import hyperparameters
from gapsearch.spec import load_study

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _train_and_measure(
    study: str, chosen: dict, *, on_test: bool, epochs: int | None = None, patience: int | None = None
) -> float:
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.training.fit import train

    spec = load_study(ROOT / "studies" / study)
    hp = hyperparameters(spec.fixed, chosen)
    if epochs is not None:
        hp = hp.model_copy(update={"epochs": epochs})
    if patience is not None:
        hp = hp.model_copy(update={"patience": patience})
    splits = load_splits(spec.data, spec.base_dir, spec.seed, with_test=on_test)
    if on_test:
        data = splits.vectorize_final(hp.max_tokens, hp.sequence_length, include_validation=False)
    else:
        data = splits.vectorize_run(splits.run_names()[0], hp.max_tokens, hp.sequence_length)
    keras.utils.set_random_seed(spec.seed)
    model = build_model(hp, vocabulary_size=data.vocabulary_size, n_classes=2, task=splits.task)
    if on_test:  # the test split chooses nothing: a fixed number of epochs, no early stopping on it
        model.fit(data.x_train, data.y_train, epochs=hp.epochs, batch_size=hp.batch_size, verbose=0)
        return float(model.evaluate(data.x_validation, data.y_validation, verbose=0, return_dict=True)["accuracy"])
    assert data.x_held_out is not None and data.y_held_out is not None  # the study's inner split
    result = train(
        model,
        data.x_train,
        data.y_train,
        data.x_validation,
        data.y_validation,
        metric="val_accuracy",
        direction="maximize",
        epochs=hp.epochs,
        batch_size=hp.batch_size,
        patience=hp.patience,
        held_out=(data.x_held_out, data.y_held_out),
    )
    assert result.best_epoch == 1 + result.history["inner_val_accuracy"].index(
        max(result.history["inner_val_accuracy"])
    )
    return result.best_value


KIM = {"pooling": "max"}


def test_mr_held_out_fold(datasets):
    # Three epochs (patience 1) rather than the study's six keep the suite short; the benchmark runs all.
    accuracy = _train_and_measure("mr.yaml", {**KIM, "embedding_dim": 128}, on_test=False, epochs=3, patience=1)
    print(f"MR fold 1 held-out accuracy: {accuracy:.4f}")
    assert accuracy >= 0.74


def test_sst2_test_set(datasets):
    # One width (3) rather than the study's three keeps the suite short; the benchmark trains all three.
    accuracy = _train_and_measure(
        "sst2.yaml", {**KIM, "embedding_dim": 128, "kernel_sizes": [3]}, on_test=True, epochs=1
    )
    print(f"SST-2 test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.80


def test_imdb_test_set(datasets):
    # One width (3) rather than the study's three keeps the suite short; the benchmark trains all three.
    accuracy = _train_and_measure(
        "imdb.yaml", {**KIM, "embedding_dim": 64, "kernel_sizes": [3]}, on_test=True, epochs=2
    )
    print(f"IMDB test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.86
