"""A running trial's training state, saved at the end of every epoch so that its retry resumes there.

One folder per trial (its retries share it: they are the same trial to the user), holding one
checkpoint, replaced each epoch:

- ``state.npz``: the model's weights, the optimizer's variables (its step count and moments), the
  model's other state (the dropout layers' seed generators), early stopping's best weights, and the
  confusion counts of the epochs so far;
- ``state.json``: the epoch, the history so far, early stopping's counters, and what the trial
  adds (the pruner's reported steps, finished runs' results; see :mod:`gapsearch.search.objective`).

A checkpoint costs the training only a copy of its arrays: :meth:`TrialCheckpoint.save` copies every
array and serializes the JSON state on the calling thread (between two epochs, so the copy is
consistent), and one background thread writes them while the next epoch trains. A new save,
:meth:`~TrialCheckpoint.load`, :meth:`~TrialCheckpoint.remove` and :meth:`~TrialCheckpoint.wait` (which
``train`` calls when ``fit`` ends, however it ends) first wait for that write and raise its error. The
thread is not a daemon: an interpreter that exits finishes the write first.

A new checkpoint is written beside the last one and renamed over it, so a worker killed while
writing leaves the previous epoch's. The folder is removed when the trial ends (complete, pruned
or failed of its own); a worker that dies or is stopped leaves it for the retry.

A checkpoint written before the weights moved into ``state.npz`` holds them in ``model.weights.h5``
(Keras' weights file); it is still read, so that a retry across an upgrade resumes.

Backend-agnostic: Keras' public API (variables' values and ``assign``, ``load_weights``) and NumPy only.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS = "model.weights.h5"  # the weights of a checkpoint of an earlier release: read, no longer written
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
        earlier_release = (self.folder / WEIGHTS).is_file()
        if earlier_release:
            model.load_weights(self.folder / WEIGHTS)
        with np.load(self.folder / ARRAYS) as arrays:
            for prefix, variables in (
                ("weights", () if earlier_release else model.weights),
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
        self._writing: _Writing | None = None

    def load(self) -> SavedTraining | None:
        """The last checkpoint, or None when there is none (a first attempt, or checkpoints off)."""
        self.wait()
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
        """Replace the checkpoint with the state after ``epoch`` epochs: copied now, written in the background."""
        self.wait()
        arrays = {f"weights_{i}": w for i, w in enumerate(_values(model.weights))}
        arrays.update({f"optimizer_{i}": v for i, v in enumerate(_values(model.optimizer.variables))})
        arrays.update({f"state_{i}": v for i, v in enumerate(_values(model.non_trainable_variables))})
        arrays.update({f"counts_{i}": np.array(c, copy=True) for i, c in enumerate(counts)})
        stopping: dict[str, Any] = {"wait": 0, "best": None, "best_epoch": 0, "n_best_weights": 0}
        if early_stopping is not None:
            best, best_weights = early_stopping.best, early_stopping.best_weights or ()
            stopping = {
                "wait": int(early_stopping.wait),
                "best": None if best is None else float(best),
                "best_epoch": int(early_stopping.best_epoch),
                "n_best_weights": len(best_weights),
            }
            arrays.update({f"best_{i}": np.array(w, copy=True) for i, w in enumerate(best_weights)})
        state = {
            "epoch": epoch,
            "history": history,
            "early_stopping": stopping,
            "extra": extra,
            "n_counts": len(counts),
            "seconds": seconds,
        }
        self._writing = _Writing(self._write, arrays, json.dumps(state))  # history and extra change after this
        self._writing.start()

    def wait(self) -> None:
        """Return once the checkpoint being written (if any) is in place; raise the error that writing it met."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.finish()

    def remove(self) -> None:
        """Delete the trial's checkpoint (it ended)."""
        try:
            self.wait()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self, arrays: dict[str, np.ndarray], state: str) -> None:
        """Write a checkpoint beside the current one, then put it in its place (on the writing thread)."""
        incoming = self.folder / "incoming"
        shutil.rmtree(incoming, ignore_errors=True)
        incoming.mkdir(parents=True)
        np.savez(incoming / ARRAYS, allow_pickle=False, **arrays)
        (incoming / STATE).write_text(state)
        previous = self.folder / "previous"
        shutil.rmtree(previous, ignore_errors=True)
        if self._current.exists():
            self._current.rename(previous)
        incoming.rename(self._current)
        shutil.rmtree(previous, ignore_errors=True)


def _values(variables: Sequence[Any]) -> list[np.ndarray]:
    """The variables' values now, each copied: a backend's NumPy view may share the memory the next step updates."""
    import keras

    return [np.array(keras.ops.convert_to_numpy(variable.value), copy=True) for variable in variables]


class _Writing(threading.Thread):
    """One checkpoint being written; not a daemon, so that an exiting interpreter lets it finish."""

    def __init__(self, write: Callable[..., None], *args: Any) -> None:
        super().__init__(target=write, args=args, name="gapsearch-checkpoint")
        self.error: BaseException | None = None
        self._ended = threading.Event()

    def run(self) -> None:
        try:
            super().run()  # which drops the arrays once written, before the next save replaces this thread
        except BaseException as error:  # noqa: BLE001 - raised on the training's thread by finish()
            self.error = error
        finally:
            self._ended.set()

    def finish(self) -> None:
        """Wait for the write to end; raise its error. A stop signal (KeyboardInterrupt, a worker's stop)
        arriving meanwhile is raised once the write has ended, so that a stopped worker's retry resumes
        from the last epoch it finished.

        An event, not ``join``: Python 3.11's ``join`` interrupted by a signal takes the thread for ended.
        """
        interrupted: BaseException | None = None
        while not self._ended.is_set():
            try:
                self._ended.wait()
            except BaseException as error:  # noqa: BLE001 - raised below, after the write
                interrupted = error
        self.join()  # a moment: only the thread's own ending is left
        if interrupted is not None:
            raise interrupted
        if self.error is not None:
            raise self.error


def checkpoint_folder(root: Path, study_name: str, trial_number: int) -> Path:
    """Where trial ``trial_number`` of ``study_name`` (the first attempt's number) keeps its checkpoint."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in study_name)
    return root / safe / f"trial-{trial_number}"
