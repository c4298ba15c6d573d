"""A running trial's training state, saved at the end of every epoch so that its retry resumes there.

One folder per trial (its retries share it: they are the same trial to the user), holding one
checkpoint, replaced each epoch:

- ``model.weights.h5``: the model's weights (Keras' own weights file);
- ``state.npz``: the optimizer's variables (its step count and moments), the model's other state
  (the dropout layers' seed generators), early stopping's best weights, and the confusion counts
  of the epochs so far;
- ``state.json``: the epoch, the history so far, early stopping's counters, and what the trial
  adds (the pruner's reported steps, finished runs' results; see :mod:`gapsearch.search.objective`).

A new checkpoint is written beside the last one and renamed over it, so a worker killed while
writing leaves the previous epoch's. The folder is removed when the trial ends (complete, pruned
or failed of its own); a worker that dies or is stopped leaves it for the retry.

Backend-agnostic: Keras' saving API, ``keras.Variable.assign`` and NumPy only.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS = "model.weights.h5"
ARRAYS = "state.npz"
STATE = "state.json"


@dataclass
class SavedTraining:
    """What a checkpoint holds besides the arrays it puts back into the model (see :meth:`restore`)."""

    folder: Path
    epoch: int  # epochs done (1-based count)
    history: dict[str, list[float]]
    early_stopping: dict[str, Any]
    extra: dict[str, Any]
    counts: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0  # training time of the saved epochs
    best_weights: list[np.ndarray] | None = None  # early stopping's, read by restore()

    def restore(self, model: Any) -> None:
        """Put the saved weights, optimizer state and model state back (the optimizer built already)."""
        model.load_weights(self.folder / WEIGHTS)
        with np.load(self.folder / ARRAYS) as arrays:
            for prefix, variables in (
                ("optimizer", model.optimizer.variables),
                ("state", model.non_trainable_variables),
            ):
                for index, variable in enumerate(variables):
                    variable.assign(arrays[f"{prefix}_{index}"])
            n_best = int(self.early_stopping.get("n_best_weights", 0))
            self.best_weights = [arrays[f"best_{index}"] for index in range(n_best)] or None

    def restore_early_stopping(self, early_stopping: Any) -> None:
        """Early stopping's counters and best weights as they were (call after its ``on_train_begin``)."""
        early_stopping.wait = self.early_stopping["wait"]
        early_stopping.best = self.early_stopping["best"]
        early_stopping.best_epoch = self.early_stopping["best_epoch"]
        early_stopping.best_weights = self.best_weights


class TrialCheckpoint:
    """The checkpoint folder of one trial (and its retries)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._current = folder / "current"

    def load(self) -> SavedTraining | None:
        """The last checkpoint, or None when there is none (a first attempt, or checkpoints off)."""
        for candidate in (self._current, self.folder / "previous"):
            if (candidate / STATE).is_file():
                state = json.loads((candidate / STATE).read_text())
                with np.load(candidate / ARRAYS) as arrays:
                    counts = [arrays[f"counts_{i}"] for i in range(int(state["n_counts"]))]
                return SavedTraining(
                    candidate,
                    state["epoch"],
                    state["history"],
                    state["early_stopping"],
                    state["extra"],
                    counts,
                    state["seconds"],
                )
        return None

    def save(
        self,
        model: Any,
        *,
        epoch: int,
        history: dict[str, list[float]],
        early_stopping: Any | None,
        counts: list[np.ndarray],
        seconds: float,
        extra: dict[str, Any],
    ) -> None:
        """Replace the checkpoint with the state after ``epoch`` epochs."""
        import keras

        incoming = self.folder / "incoming"
        shutil.rmtree(incoming, ignore_errors=True)
        incoming.mkdir(parents=True)
        model.save_weights(incoming / WEIGHTS)
        arrays = {
            f"optimizer_{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(model.optimizer.variables)
        }
        arrays.update(
            {f"state_{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(model.non_trainable_variables)}
        )
        arrays.update({f"counts_{i}": c for i, c in enumerate(counts)})
        stopping: dict[str, Any] = {"wait": 0, "best": None, "best_epoch": 0, "n_best_weights": 0}
        if early_stopping is not None:
            best = early_stopping.best
            stopping = {
                "wait": int(early_stopping.wait),
                "best": None if best is None else float(best),
                "best_epoch": int(early_stopping.best_epoch),
                "n_best_weights": len(early_stopping.best_weights or ()),
            }
            arrays.update({f"best_{i}": w for i, w in enumerate(early_stopping.best_weights or ())})
        np.savez(incoming / ARRAYS, **arrays)
        state = {
            "epoch": epoch,
            "history": history,
            "early_stopping": stopping,
            "extra": extra,
            "n_counts": len(counts),
            "seconds": seconds,
        }
        (incoming / STATE).write_text(json.dumps(state))
        previous = self.folder / "previous"
        shutil.rmtree(previous, ignore_errors=True)
        if self._current.exists():
            self._current.rename(previous)
        incoming.rename(self._current)
        shutil.rmtree(previous, ignore_errors=True)

    def remove(self) -> None:
        """Delete the trial's checkpoint (it ended)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def checkpoint_folder(root: Path, study_name: str, trial_number: int) -> Path:
    """Where trial ``trial_number`` of ``study_name`` (the first attempt's number) keeps its checkpoint."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in study_name)
    return root / safe / f"trial-{trial_number}"
