"""Training one model: early stopping, per-epoch reports for the pruner, NaN detection.

Backend-agnostic: only Keras' public API and NumPy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from gapsearch.errors import TrialFailed
from gapsearch.models.metrics import ConfusionCounts
from gapsearch.training.checkpoints import SavedTraining, TrialCheckpoint
from gapsearch.training.resuming import CheckpointEachEpoch, ResumedEarlyStopping

if TYPE_CHECKING:
    from gapsearch.training.batching import LengthBucketedBatches

#: Validation runs in batches this much larger than training's (at most 256 texts): no gradients,
#: so fewer, larger steps give the same metrics sooner.
VALIDATION_BATCH_FACTOR = 8


def validation_batch_size(batch_size: int) -> int:
    return max(batch_size, min(256, VALIDATION_BATCH_FACTOR * batch_size))


@dataclass(frozen=True)
class TrainingResult:
    """What one training run measured."""

    best_value: float
    best_epoch: int  # 1-based
    epochs_run: int
    train_seconds: float
    history: dict[str, list[float]]
    model: keras.Model | None = field(default=None, repr=False, compare=False)  # the trained model
    #: Validation examples per (true, predicted) class, from the validation pass of the epoch whose
    #: weights ``model`` holds (``confusion_epoch``, 1-based); None unless ``train`` was asked to count.
    confusion: np.ndarray | None = field(default=None, repr=False, compare=False)
    confusion_epoch: int | None = None

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(self.epochs_run, 1)

    def value_at_best(self, metric: str) -> float:
        """``metric``'s value at the best epoch (the monitored metric's best value, or another's beside it)."""
        if metric not in self.history:
            there = ", ".join(sorted(self.history))
            raise TrialFailed(f"metric {metric!r} is not in the training logs (there: {there})")
        return float(self.history[metric][self.best_epoch - 1])

    def generalization_gap(self, metric: str) -> float | None:
        """Training minus validation value of ``metric``'s base metric at the best epoch."""
        base = metric.removeprefix("val_")
        train = self.history.get(base)
        if train is None:
            return None
        return float(train[self.best_epoch - 1] - self.history[metric][self.best_epoch - 1])


class _EpochReporter(keras.callbacks.Callback):
    """Hands each epoch's validation metric to ``report`` and fails fast on a NaN loss.

    A metric missing from the logs fails the trial loudly rather than silently
    turning pruning off.
    """

    def __init__(self, metric: str, report: Callable[[int, float], None]) -> None:
        super().__init__()
        self.metric = metric
        self.report = report

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrialFailed(f"the training loss became {float(loss)} at epoch {epoch + 1}")
        if self.metric not in logs:
            raise TrialFailed(f"metric {self.metric!r} is not in the training logs (there: {', '.join(sorted(logs))})")
        value = float(logs[self.metric])
        if not math.isfinite(value):
            raise TrialFailed(f"{self.metric} became {value} at epoch {epoch + 1}")
        self.report(epoch + 1, value)


class _ValidationCounts(keras.callbacks.Callback):
    """Copies a :class:`ConfusionCounts` metric's counts at each epoch's end, when they are the validation pass's."""

    def __init__(self, metric: ConfusionCounts) -> None:
        super().__init__()
        self.metric = metric
        self.per_epoch: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.per_epoch.append(np.array(keras.ops.convert_to_numpy(self.metric.counts), dtype=int))


#: The logs' prefix of the held-out fold's metrics while ``fit`` runs; ``train`` renames them afterwards.
_HELD_OUT = "held_out_"
#: With a held-out fold, the history's prefix of the inner validation split's metrics (``inner_val_accuracy``).
INNER = "inner_"


class _HeldOutScores(keras.callbacks.Callback):
    """Scores the held-out fold at each epoch's end, into the logs as ``held_out_val_<metric>``.

    It runs before the other callbacks: a confusion metric's counts are then the held-out fold's.
    """

    def __init__(self, data: Any, batch_size: int | None) -> None:
        super().__init__()
        self.data = data
        self.batch_size = batch_size

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        x, y = self.data if isinstance(self.data, tuple) else (self.data, None)
        scores = self.model.evaluate(x, y, batch_size=self.batch_size, verbose=0, return_dict=True)
        logs.update({f"{_HELD_OUT}val_{name}": float(value) for name, value in scores.items()})


def _rename_held_out(logs: dict[str, list[float]]) -> dict[str, list[float]]:
    """``val_*`` (the inner split) become ``inner_val_*``, and ``held_out_val_*`` (the fold) ``val_*``."""
    renamed = {}
    for key, values in logs.items():
        if key.startswith(_HELD_OUT):
            renamed[key.removeprefix(_HELD_OUT)] = values
        elif key.startswith("val_"):
            renamed[INNER + key] = values
        else:
            renamed[key] = values
    return renamed


def train(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_validation: np.ndarray,
    y_validation: np.ndarray,
    *,
    metric: str,
    direction: str,
    epochs: int,
    batch_size: int,
    patience: int,
    report: Callable[[int, float], None] = lambda epoch, value: None,
    length_buckets: int = 0,
    seed: int = 0,
    confusion: ConfusionCounts | None = None,
    checkpoint: TrialCheckpoint | None = None,
    resumed: SavedTraining | None = None,
    checkpoint_extra: Callable[[], dict[str, Any]] = dict,
    held_out: tuple[np.ndarray, np.ndarray] | None = None,
) -> TrainingResult:
    """Fit ``model``; return the best epoch's validation ``metric``, not the last one's.

    ``report(epoch, value)`` runs after every epoch (1-based) and may raise to stop the
    trial (Optuna's TrialPruned). With ``patience`` > 0, training stops after that many
    epochs without improvement and the best epoch's weights are restored. With ``length_buckets``
    > 0, batches hold texts of similar length padded only to their bucket's length (see
    :mod:`gapsearch.training.batching`; the model must accept any length), shuffled from ``seed``.
    ``confusion``, a metric compiled into ``model``, gives the result's validation confusion counts,
    taken from the validation passes ``fit`` runs anyway (no pass of their own); it stays out of the
    history.

    With ``held_out`` (a cross-validation fold whose ``x_validation`` is the inner split of its training
    rows), the validation rows choose the epochs (early stopping, ``report``, the best epoch) and the
    held-out rows are scored at each epoch's end: the result's ``val_*`` history and ``best_value`` are
    theirs, at the epoch the validation rows chose, whose own history becomes ``inner_val_*``.
    """
    mode = "max" if direction == "maximize" else "min"
    first_epoch = resumed.epoch if resumed is not None else 0
    train_data, validation_data, held_out_data = _batches(
        x_train, y_train, x_validation, y_validation, length_buckets, batch_size, seed, first_epoch, held_out
    )
    callbacks: list[keras.callbacks.Callback] = []
    if held_out_data is not None:  # first: the confusion counts read after it are the held-out fold's
        arrays_batch = validation_batch_size(batch_size) if length_buckets == 0 else None
        callbacks.append(_HeldOutScores(held_out_data, arrays_batch))
    callbacks.append(_EpochReporter(metric, report))
    counts = _ValidationCounts(confusion) if confusion is not None else None
    if counts is not None:
        counts.per_epoch = list(resumed.counts) if resumed is not None else []
        callbacks.append(counts)
    early_stopping = None
    if patience > 0:
        early_stopping = ResumedEarlyStopping(
            resumed, monitor=metric, mode=mode, patience=patience, restore_best_weights=True
        )
        callbacks.append(early_stopping)
    started = time.perf_counter()
    _build_optimizer(model)
    if resumed is not None:
        resumed.restore(model)
    if checkpoint is not None:
        callbacks.append(CheckpointEachEpoch(checkpoint, resumed, early_stopping, counts, checkpoint_extra, started))
    arrays = {"validation_batch_size": validation_batch_size(batch_size)} if length_buckets == 0 else {}
    new: dict[str, list[float]] = {}
    if resumed is not None and first_epoch >= epochs:
        # Its worker stopped after the last epoch's checkpoint, before the trial ended: nothing is left to
        # train, and the model ends as fit would have left it (early stopping's best weights, where kept).
        if early_stopping is not None and resumed.best_weights is not None:
            model.set_weights(resumed.best_weights)
    else:
        try:
            new = model.fit(
                train_data,
                validation_data=validation_data,
                epochs=epochs,
                initial_epoch=first_epoch,
                shuffle=False,
                callbacks=callbacks,
                verbose=0,
                **arrays,
            ).history
        finally:  # however fit ends, no checkpoint is left half written (its write's error is raised here)
            if checkpoint is not None:
                checkpoint.wait()
    seconds = time.perf_counter() - started + (resumed.seconds if resumed is not None else 0.0)
    hidden = {confusion.name, f"val_{confusion.name}"} if confusion is not None else set()
    before = resumed.history if resumed is not None else {}
    logs = {
        key: [*before.get(key, []), *(float(v) for v in new.get(key, []))]
        for key in (new or before)
        if key not in hidden and key.removeprefix(_HELD_OUT) not in hidden
    }
    chosen_by = metric
    if held_out is not None:
        logs = _rename_held_out(logs)
        chosen_by = INNER + metric
    values = np.asarray(logs[chosen_by])
    best = int(np.argmax(values) if mode == "max" else np.argmin(values))
    # EarlyStopping ends training with the best epoch's weights; without it the model is the last epoch's.
    kept = best if patience > 0 else len(values) - 1
    return TrainingResult(
        best_value=float(logs[metric][best]),
        best_epoch=best + 1,
        epochs_run=len(values),
        train_seconds=seconds,
        history=logs,
        model=model,
        confusion=counts.per_epoch[kept] if counts is not None else None,
        confusion_epoch=kept + 1 if counts is not None else None,
    )


def _build_optimizer(model: keras.Model) -> None:
    """Create the optimizer's slot variables now, before ``fit`` traces its training step.

    Left to ``fit``, under TensorFlow they are created while the step is traced, and a ``tf.function``
    that creates variables is traced twice: each trial would trace its training step twice.
    """
    if model.built and model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def for_keras(batches: LengthBucketedBatches):
    """``batches`` as ``fit`` and ``evaluate`` should get them on this Keras backend.

    Under TensorFlow, a prefetching ``tf.data`` pipeline with an open length dimension
    (:mod:`gapsearch.training.tf_batching`); on the other backends, the PyDataset itself.
    """
    if keras.backend.backend() == "tensorflow":
        from gapsearch.training.tf_batching import as_tf_dataset

        return as_tf_dataset(batches)
    return batches


def _batches(
    x_train,
    y_train,
    x_validation,
    y_validation,
    n_buckets: int,
    batch_size: int,
    seed: int,
    first_epoch: int,
    held_out: tuple[np.ndarray, np.ndarray] | None = None,
):
    """Train, validation and held-out batches, as ``tf.data`` (prefetching) under TensorFlow, from
    ``first_epoch``'s draw on (held-out: None without ``held_out``).

    With ``n_buckets`` > 0 length-bucketed; else one bucket of the full width (plain shuffled batches).
    Bucketed or not, the training batches shuffle themselves from the seed and the epoch number (``fit``
    gets shuffle=False: Keras would reorder them again), so that epoch k's order does not depend on
    earlier epochs having run here.
    """
    from gapsearch.training.batching import LengthBucketedBatches

    scored = [(x_validation, y_validation), *([held_out] if held_out is not None else [])]
    train_batches = _train_batches(x_train, y_train, n_buckets, batch_size, seed, first_epoch, [x for x, _ in scored])
    lengths = train_batches.lengths
    if n_buckets == 0:  # plain arrays validate as fit always did
        return for_keras(train_batches), (x_validation, y_validation), held_out
    validation_batches, *held_out_batches = (
        for_keras(
            LengthBucketedBatches(x, y, batch_size=validation_batch_size(batch_size), lengths=lengths, shuffle=False)
        )
        for x, y in scored
    )
    return for_keras(train_batches), validation_batches, (held_out_batches[0] if held_out_batches else None)


def _train_batches(
    x_train: np.ndarray,
    y_train: np.ndarray,
    n_buckets: int,
    batch_size: int,
    seed: int,
    first_epoch: int,
    also_fit: Sequence[np.ndarray] = (),
) -> LengthBucketedBatches:
    """The shuffled training batches: ``n_buckets`` length buckets whose last fits every text of
    ``x_train`` and ``also_fit``, or with 0 one bucket of the full width."""
    from gapsearch.training.batching import LengthBucketedBatches, bucket_lengths, text_lengths

    if n_buckets > 0:
        longest = max(int(text_lengths(x).max(initial=0)) for x in [x_train, *also_fit])
        lengths = bucket_lengths(text_lengths(x_train), n_buckets, x_train.shape[1], longest=longest)
    else:
        lengths = (x_train.shape[1],)
    return LengthBucketedBatches(
        x_train, y_train, batch_size=batch_size, lengths=lengths, shuffle=True, seed=seed, first_epoch=first_epoch
    )


def fit_epochs(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    length_buckets: int = 0,
    seed: int = 0,
) -> None:
    """Fit ``model`` for exactly ``epochs`` on the training rows alone, no validation and no early stopping
    (``gapsearch evaluate``'s retraining), with the batches a trial trains on: length-bucketed with
    ``length_buckets`` > 0, shuffled from ``seed``, the optimizer built before ``fit``."""
    batches = _train_batches(x_train, y_train, length_buckets, batch_size, seed, 0)
    _build_optimizer(model)
    model.fit(for_keras(batches), epochs=epochs, shuffle=False, verbose=0)
