"""Quality anchors on real data: a fixed CNN-rand-like configuration (Kim 2014) from the shipped studies.

Each test loads the study file users run, fixes the searched parameters (embedding dimension and
max pooling) and trains once through gapsearch's own data pipeline, builder and training loop.
MR is judged on one held-out fold of its 10 (the study itself averages all ten; early stopping on
that fold, as a trial does); SST-2 and IMDB on their test sets, as `gapsearch evaluate` does:
train on train for a fixed number of epochs, then measure on test once. The epochs were chosen on
the validation data (SST-2 dev: 83.3% after 1 epoch; IMDB's held-out 20%: 87.6% after 3), never
on the test sets. The three together take about 5 to 6 minutes on 2 CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gapsearch.data.dataset import load_splits
from gapsearch.search.space import hyperparameters
from gapsearch.spec import load_study

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _train_and_measure(study: str, chosen: dict, *, on_test: bool, epochs: int | None = None) -> float:
    import keras

    from gapsearch.models.builder import build_model
    from gapsearch.training.fit import train

    spec = load_study(ROOT / "studies" / study)
    hp = hyperparameters(spec.fixed, chosen)
    if epochs is not None:
        hp = hp.model_copy(update={"epochs": epochs})
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
    )
    return result.best_value


KIM = {"pooling": "max"}


def test_mr_held_out_fold(datasets):
    accuracy = _train_and_measure("mr.yaml", {**KIM, "embedding_dim": 128}, on_test=False)
    print(f"MR fold 1 held-out accuracy: {accuracy:.4f}")
    assert accuracy >= 0.74


def test_sst2_test_set(datasets):
    accuracy = _train_and_measure("sst2.yaml", {**KIM, "embedding_dim": 128}, on_test=True, epochs=1)
    print(f"SST-2 test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.80


def test_imdb_test_set(datasets):
    accuracy = _train_and_measure("imdb.yaml", {**KIM, "embedding_dim": 64}, on_test=True, epochs=3)
    print(f"IMDB test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.86
