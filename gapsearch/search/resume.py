"""A trial's retry resuming where its worker stopped: which checkpoint is the trial's, and what it restores.

A retry (Optuna's retry callback queues a stale or stopped trial again with its parameters) is
the same trial to the user: it takes the first attempt's number for its seed and its checkpoint
folder, so it trains on the same batches from the same initial weights. What the trial had done
before its worker stopped comes back from the checkpoint (:mod:`gapsearch.training.checkpoints`): the run
in progress (the model, optimizer and early stopping after its last epoch), the finished runs'
results (folds and repeats), the steps reported to the pruner, and the costs measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gapsearch.search.selection import first_attempt_number
from gapsearch.training.checkpoints import SavedTraining, TrialCheckpoint, checkpoint_folder
from gapsearch.trial_attrs import ModelCosts, Resumed

if TYPE_CHECKING:
    import keras
    import optuna

    from gapsearch.spec.study import StudySpec
    from gapsearch.training.fit import TrainingResult

FIRST_MODEL = "first_run.weights.h5"  # with several runs, the first run's trained model (the trial's artifacts)


@dataclass
class TrialResume:
    """The checkpoint of one trial and what it held when this attempt started (nothing on a first attempt)."""

    checkpoint: TrialCheckpoint | None
    saved: SavedTraining | None = None
    reported: list[list[float]] = field(default_factory=list)  # [step, value] sent to the pruner so far
    costs: ModelCosts | None = None  # measured by the first run
    results: list[TrainingResult] = field(default_factory=list)  # the runs finished so far, kept by the objective

    @classmethod
    def of(cls, trial: optuna.Trial, spec: StudySpec) -> TrialResume:
        if spec.workers.checkpoints is None:
            return cls(None)
        root = spec.base_dir / spec.workers.checkpoints
        checkpoint = TrialCheckpoint(checkpoint_folder(root, spec.name, first_attempt_number(trial)))
        return cls(checkpoint, checkpoint.load())

    @property
    def run_index(self) -> int:
        """The run the saved state belongs to (0 when nothing was saved)."""
        return int(self.saved.extra["run"]) if self.saved is not None else 0

    def restore(self, trial: optuna.Trial, run_names: list[str]) -> dict[str, float]:
        """Give this attempt what the last one recorded (pruner steps, costs); the values it had measured.

        The costs and the :class:`~gapsearch.trial_attrs.Resumed` record are stored on the trial again.
        """
        if self.saved is None:
            return {}
        extra = self.saved.extra
        for step, value in extra["reported"]:
            trial.report(value, int(step))
        self.reported = [list(pair) for pair in extra["reported"]]
        self.costs = ModelCosts.read(extra["attrs"])  # a checkpoint of an older release: its old names too
        if self.costs is not None:
            self.costs.write(trial)
        Resumed(self.saved.epoch, run_names[self.run_index] if len(run_names) > 1 else None).write(trial)
        return dict(extra["measured"])

    def resumed_for(self, index: int) -> SavedTraining | None:
        """The saved state to resume run ``index`` from: the run in progress only."""
        return self.saved if self.saved is not None and index == self.run_index else None

    def finished_results(self) -> list[TrainingResult]:
        """The results of the runs that had finished (models left out)."""
        if self.saved is None:
            return []
        return [_result_from(record) for record in self.saved.extra["finished"]]

    def extra(self, index: int, measured: dict[str, float]) -> dict:
        """The trial's part of a checkpoint taken during run ``index``."""
        return {
            "run": index,
            "reported": self.reported,
            "measured": dict(measured),
            "finished": [_record_of(result) for result in self.results[:index]],
            "attrs": {} if self.costs is None else self.costs.as_attrs(),
        }

    def keep_first_model(self, model: keras.Model) -> None:
        """Save the first run's trained model, which later runs' checkpoints do not hold."""
        if self.checkpoint is not None:
            self.checkpoint.folder.mkdir(parents=True, exist_ok=True)
            model.save_weights(self.checkpoint.folder / FIRST_MODEL)

    def first_model_weights(self) -> str | None:
        """Where the first run's model was kept, when this attempt resumes a later run."""
        if self.checkpoint is None or self.run_index == 0:
            return None
        return str(self.checkpoint.folder / FIRST_MODEL)

    def remove(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.remove()


def _record_of(result: TrainingResult) -> dict[str, Any]:
    return {
        "best_value": result.best_value,
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "train_seconds": result.train_seconds,
        "history": result.history,
        "confusion": None if result.confusion is None else result.confusion.tolist(),
        "confusion_epoch": result.confusion_epoch,
    }


def _result_from(record: dict[str, Any]) -> TrainingResult:
    from gapsearch.training.fit import TrainingResult

    confusion = record["confusion"]
    return TrainingResult(
        best_value=record["best_value"],
        best_epoch=record["best_epoch"],
        epochs_run=record["epochs_run"],
        train_seconds=record["train_seconds"],
        history=record["history"],
        confusion=None if confusion is None else np.asarray(confusion, dtype=int),
        confusion_epoch=record["confusion_epoch"],
    )
