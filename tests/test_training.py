"""Training one model: the best epoch is chosen, NaN and missing metrics fail loudly."""

from __future__ import annotations

import numpy as np
import pytest

from gapsearch.errors import TrialFailed
from gapsearch.models.builder import build_model
from gapsearch.spec import Hyperparameters
from gapsearch.training import train


def tiny_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 50, size=(64, 12)).astype("int32")
    y = (x[:, :3].sum(axis=1) > 75).astype("float32")
    return x, y


def tiny_model():
    hp = Hyperparameters(embedding_dim=4, filters=4, sequence_length=12, max_tokens=50, epochs=3)
    return build_model(hp, vocabulary_size=50, n_classes=2)


def test_returns_the_best_epoch_not_the_last():
    x, y = tiny_data()
    reports: list[tuple[int, float]] = []
    result = train(
        tiny_model(),
        x,
        y,
        x,
        y,
        metric="val_loss",
        direction="minimize",
        epochs=3,
        batch_size=16,
        patience=0,
        report=lambda epoch, value: reports.append((epoch, value)),
    )
    assert [epoch for epoch, _ in reports] == [1, 2, 3]
    assert [value for _, value in reports] == result.history["val_loss"]
    assert result.best_value == min(result.history["val_loss"])
    assert result.best_epoch == 1 + result.history["val_loss"].index(result.best_value)
    assert result.epochs_run == 3


def test_a_nan_loss_fails_the_trial_at_its_epoch():
    x, y = tiny_data()
    y[5] = np.nan
    with pytest.raises(TrialFailed) as caught:
        train(
            tiny_model(), x, y, x, y, metric="val_accuracy", direction="maximize", epochs=3, batch_size=16, patience=0
        )
    assert str(caught.value) == "the training loss became nan at epoch 1"


def test_a_metric_missing_from_the_logs_fails_loudly():
    x, y = tiny_data()
    with pytest.raises(TrialFailed) as caught:
        train(tiny_model(), x, y, x, y, metric="val_f1", direction="maximize", epochs=1, batch_size=16, patience=0)
    assert str(caught.value) == (
        "metric 'val_f1' is not in the training logs "
        "(there: accuracy, auc, loss, macro_f1, val_accuracy, val_auc, val_loss, val_macro_f1)"
    )


def test_early_stopping_ends_training_after_patience_epochs():
    x, y = tiny_data()
    # A learning rate of ~0 never improves val_loss after the first epoch.
    hp = Hyperparameters(embedding_dim=4, filters=4, sequence_length=12, max_tokens=50, learning_rate=1e-12)
    model = build_model(hp, vocabulary_size=50, n_classes=2)
    result = train(model, x, y, x, y, metric="val_loss", direction="minimize", epochs=10, batch_size=64, patience=2)
    assert result.epochs_run < 10
