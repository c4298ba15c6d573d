"""The callbacks that make a run resumable: a checkpoint of the training state at each epoch's end, and
early stopping that starts from a checkpoint's counters (see :mod:`gapsearch.training.checkpoints`).

Backend-agnostic: only Keras' public API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import keras
import numpy as np

from gapsearch.training.checkpoints import SavedTraining, TrialCheckpoint


class CountsSoFar(Protocol):
    """The validation confusion counts of the epochs so far (``fit``'s callback that collects them)."""

    per_epoch: list[np.ndarray]


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' early stopping, starting from a checkpoint's counters instead of from scratch."""

    def __init__(self, resumed: SavedTraining | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resumed = resumed

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        if self.resumed is not None:
            self.resumed.restore_early_stopping(self)


class CheckpointEachEpoch(keras.callbacks.Callback):
    """Saves the training state to ``checkpoint`` at the end of each epoch (after early stopping's update)."""

    def __init__(
        self,
        checkpoint: TrialCheckpoint,
        resumed: SavedTraining | None,
        early_stopping: keras.callbacks.EarlyStopping | None,
        counts: CountsSoFar | None,
        extra: Callable[[], dict[str, Any]],
        started: float,
    ) -> None:
        super().__init__()
        self.checkpoint = checkpoint
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (resumed.history if resumed else {}).items()}
        self.seconds_before = resumed.seconds if resumed else 0.0
        self.early_stopping = early_stopping
        self.counts = counts
        self.extra = extra
        self.started = started

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self.model.stop_training:  # the last epoch: the trial ends now, and its checkpoint with it
            return
        self.checkpoint.save(
            self.model,
            epoch=epoch + 1,
            history=self.history,
            early_stopping=self.early_stopping,
            counts=self.counts.per_epoch if self.counts is not None else [],
            seconds=self.seconds_before + time.perf_counter() - self.started,
            extra=self.extra(),
        )
