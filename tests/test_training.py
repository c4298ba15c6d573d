"""Training one model: the best epoch is chosen, NaN and missing metrics fail loudly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gapsearch.errors import TrialFailed
from gapsearch.models.builder import build_model
from gapsearch.spec import Hyperparameters
from gapsearch.training.fit import train


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


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tracing is TensorFlow's")
@pytest.mark.parametrize("steps_per_execution", [1, 8])
def test_the_training_step_is_traced_once(steps_per_execution):
    """The optimizer is built before ``fit``: a step that created its variables would be traced twice."""

    class CountingTraces(keras.Model):
        traces = 0

        def train_step(self, data):
            CountingTraces.traces += 1  # Python runs here only while TensorFlow traces the step
            return super().train_step(data)

    x, y = tiny_data()
    inputs = keras.Input((12,), dtype="int32")
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(50, 4)(inputs))
    model = CountingTraces(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="adam", loss="binary_crossentropy", steps_per_execution=steps_per_execution)
    train(model, x, y, x, y, metric="val_loss", direction="minimize", epochs=2, batch_size=16, patience=0)
    assert CountingTraces.traces == 1
    assert model.optimizer.iterations.numpy() == 2 * 4  # and it trained: 4 batches an epoch


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
    # The best epoch is the first; patience 2 allows two more without improvement, then training stops.
    assert (result.epochs_run, result.best_epoch) == (3, 1)


@pytest.mark.parametrize("patience", [0, 2])
def test_confusion_counts_come_from_the_validation_pass_of_the_kept_weights(patience):
    """Counted while fit validates, at the epoch whose weights the model ends with; not in the history."""
    from gapsearch.models.metrics import ConfusionCounts

    x, y = tiny_data()
    x_validation, y_validation = tiny_data(seed=1)
    hp = Hyperparameters(embedding_dim=4, filters=4, sequence_length=12, max_tokens=50, learning_rate=0.05)
    counts = ConfusionCounts(2)
    model = build_model(hp, vocabulary_size=50, n_classes=2, metrics=["accuracy"], extra_metrics=[counts])
    result = train(
        model,
        x,
        y,
        x_validation,
        y_validation,
        metric="val_loss",
        direction="minimize",
        epochs=6,
        batch_size=16,
        patience=patience,
        confusion=counts,
    )
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    kept = result.best_epoch if patience else result.epochs_run
    assert result.confusion_epoch == kept
    assert result.confusion is not None and result.confusion.sum() == len(y_validation)
    # The diagonal is that epoch's validation accuracy, and the counts are the kept model's predictions.
    accuracy = result.history["val_accuracy"][kept - 1]
    assert np.trace(result.confusion) / len(y_validation) == pytest.approx(accuracy, abs=1e-6)
    predicted = (model.predict(x_validation, verbose=0)[:, 0] > 0.5).astype(int)
    expected = np.zeros((2, 2), dtype=int)
    np.add.at(expected, (y_validation.astype(int), predicted), 1)
    np.testing.assert_array_equal(result.confusion, expected)


@pytest.mark.parametrize("length_buckets", [0, 2])
def test_a_held_out_fold_is_scored_at_the_epoch_its_inner_split_chose(length_buckets):
    """The inner split chooses the epochs (reports, early stopping, the best epoch); the fold only reports."""
    from gapsearch.models.metrics import ConfusionCounts

    x, y = tiny_data()
    x_inner, y_inner = tiny_data(seed=1)
    x_fold, y_fold = tiny_data(seed=2)
    hp = Hyperparameters(embedding_dim=4, filters=4, sequence_length=12, max_tokens=50, learning_rate=0.05)
    counts = ConfusionCounts(2)
    model = build_model(hp, vocabulary_size=50, n_classes=2, metrics=["accuracy"], extra_metrics=[counts])
    reports: list[float] = []
    result = train(
        model,
        x,
        y,
        x_inner,
        y_inner,
        metric="val_loss",
        direction="minimize",
        epochs=5,
        batch_size=16,
        patience=2,
        report=lambda epoch, value: reports.append(value),
        length_buckets=length_buckets,
        confusion=counts,
        held_out=(x_fold, y_fold),
    )
    assert set(result.history) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "inner_val_loss",
        "inner_val_accuracy",
    }
    assert reports == result.history["inner_val_loss"]  # the pruner sees the inner split only
    inner = result.history["inner_val_loss"]
    assert result.best_epoch == 1 + inner.index(min(inner))
    assert result.best_value == result.history["val_loss"][result.best_epoch - 1]
    # The kept weights are the chosen epoch's: scoring the fold again gives the reported values.
    again = model.evaluate(x_fold, y_fold, verbose=0, return_dict=True)
    assert again["loss"] == pytest.approx(result.best_value, rel=1e-4)
    assert again["accuracy"] == pytest.approx(result.history["val_accuracy"][result.best_epoch - 1], abs=1e-6)
    # The confusion counts are the fold's, at the kept epoch.
    assert result.confusion is not None and result.confusion.sum() == len(y_fold)
    assert np.trace(result.confusion) / len(y_fold) == pytest.approx(again["accuracy"], abs=1e-6)


def test_fit_epochs_trains_on_the_trials_length_buckets_for_exactly_the_epochs():
    """``gapsearch evaluate``'s retraining: every epoch runs (no early stopping), and with length buckets the
    batches are the trial's bucketed ones (each bucket's last batch partial: more steps than full padding)."""
    from gapsearch.training.batching import bucket_lengths, text_lengths
    from gapsearch.training.fit import fit_epochs

    rng = np.random.default_rng(3)
    x = np.zeros((90, 12), dtype="int32")
    for row, length in enumerate(rng.integers(2, 13, size=90)):
        x[row, :length] = rng.integers(1, 50, size=length)
    y = (x[:, 0] > 25).astype("float32")
    lengths = bucket_lengths(text_lengths(x), 3, 12)
    assert len(lengths) > 1
    in_bucket = np.searchsorted(np.asarray(lengths), text_lengths(x))
    bucketed_steps = sum(-(-int((in_bucket == b).sum()) // 16) for b in range(len(lengths)))
    steps = {}
    for buckets in (0, 3):
        model = tiny_model()
        fit_epochs(model, x, y, epochs=2, batch_size=16, length_buckets=buckets, seed=5)
        steps[buckets] = int(model.optimizer.iterations)
    assert steps[0] == 2 * -(-90 // 16)
    assert steps[3] == 2 * bucketed_steps
    assert steps[3] > steps[0]
