"""Training one model: early stopping, per-epoch reports for the pruner, NaN detection.

Backend-agnostic: only Keras' public API and NumPy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from gapsearch.errors import TrialFailed


@dataclass(frozen=True)
class TrainingResult:
    """What one training run measured."""

    best_value: float
    best_epoch: int  # 1-based
    epochs_run: int
    train_seconds: float
    history: dict[str, list[float]]
    model: keras.Model | None = field(default=None, repr=False, compare=False)  # the trained model

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
) -> TrainingResult:
    """Fit ``model``; return the best epoch's validation ``metric``, not the last one's.

    ``report(epoch, value)`` runs after every epoch (1-based) and may raise to stop the
    trial (Optuna's TrialPruned). With ``patience`` > 0, training stops after that many
    epochs without improvement and the best epoch's weights are restored.
    """
    mode = "max" if direction == "maximize" else "min"
    callbacks: list[keras.callbacks.Callback] = [_EpochReporter(metric, report)]
    if patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor=metric, mode=mode, patience=patience, restore_best_weights=True)
        )
    started = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_validation, y_validation),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    logs = {key: [float(v) for v in values] for key, values in history.history.items()}
    values = np.asarray(logs[metric])
    best = int(np.argmax(values) if mode == "max" else np.argmin(values))
    return TrainingResult(
        best_value=float(values[best]),
        best_epoch=best + 1,
        epochs_run=len(values),
        train_seconds=seconds,
        history=logs,
        model=model,
    )
