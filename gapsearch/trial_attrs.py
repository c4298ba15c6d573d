"""What a trial stored, as typed records: each written to the trial in one place and read back in one.

A trial's result is a handful of frozen records: where it ran (:class:`Placement`, :class:`Platform`),
what it started from (:class:`TrialSetup`, :class:`QueuedFrom`, :class:`Resumed`), what its model costs
(:class:`ModelCosts`), how training went (:class:`TrainingOutcome`), and how it ended when it ended early
(:class:`Pruned`, :class:`Failure`), and the multi-objective pruner's per-step curve (:class:`MonitoredCurve`).
Each is stored as Optuna user attributes, one plain name per field (:mod:`gapsearch.records`), which
optuna-dashboard shows as they are. Writers call ``record.write(trial)``; readers call ``Record.read(trial)``
or :meth:`TrialResult.read` for all of them. The records' attribute names live in this module and nowhere
else, and no other module reads or writes a trial's attributes (``tests/test_architecture.py``).

Databases written before these records still read: trials then stored the costs twice (``params`` beside
``params_total``, ``embedding_params`` beside ``params_embedding``). The second names are read-only
aliases: read when the first is missing, never written.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gapsearch import cost_names
from gapsearch.records import StoredRecord, attrs_of

if TYPE_CHECKING:
    import optuna

    from gapsearch.records import AttrSource

#: How :attr:`Failure.reason` begins when the trial was interrupted by a stop request, not by a fault of its own.
STOPPED_BY = "the worker was stopped by"


@dataclass(frozen=True)
class Placement(StoredRecord):
    """Where a trial ran: the worker, its host and process, and the GPUs it was given (written by the worker loop)."""

    hostname: str
    pid: int | None = None
    worker_id: str | None = None
    cuda_visible_devices: str | None = None

    REQUIRED = ("hostname",)


@dataclass(frozen=True)
class Platform(StoredRecord):
    """What ran the trial: the device Keras used, the backend and the versions (written by the objective)."""

    device: str | None = None
    python_version: str | None = None
    gapsearch_version: str | None = None
    keras_version: str | None = None
    backend: str | None = None
    backend_version: str | None = None

    REQUIRED = ("backend",)

    @classmethod
    def of(cls, attributes: Mapping[str, Any]) -> Platform:
        """The platform part of :func:`gapsearch.runtime.run_attributes`."""
        return cls(**{field.name: attributes.get(field.name) for field in dataclasses.fields(cls)})


@dataclass(frozen=True)
class TrialSetup(StoredRecord):
    """What a trial started from besides its parameters: the training seed of its first run, the
    ``sequence_length`` that ``auto`` became (None when the study fixed or searched it) and the share
    of the vocabulary the pre-trained vectors cover (None without vectors)."""

    seed: int
    sequence_length: int | None = None
    vectors_coverage: float | None = None

    REQUIRED = ("seed",)

    @classmethod
    def read_sequence_length(cls, trial: AttrSource) -> int | None:
        """The resolved ``sequence_length``, also on a trial that stored nothing else of its setup."""
        value = attrs_of(trial).get(cls.key("sequence_length"))
        return None if value is None else int(value)


@dataclass(frozen=True)
class ModelCosts(StoredRecord):
    """What a built model costs, before any training.

    Attributes:
        params: Trainable and non-trainable parameters of the whole model.
        embedding_params: Parameters of the token embedding.
        flops: Estimated floating-point operations to classify one example.
        latency_ms: Median milliseconds to classify one batch of ``latency_batch_size`` examples.
    """

    params: int
    embedding_params: int
    flops: int
    latency_ms: float | None = None  # None: not timed (nothing asked for it)
    latency_batch_size: int | None = None

    KEYS = {"params": "params_total", "embedding_params": "params_embedding"}
    ALIASES = {"params": ("params",), "embedding_params": ("embedding_params",)}
    REQUIRED = ("params",)

    #: The fields that are costs a study can name as an objective or a bound (the names are the same).
    COST_NAMES: ClassVar[tuple[str, ...]] = cost_names.KNOWN_BEFORE_TRAINING

    def values(self) -> dict[str, float]:
        """Each measured cost by the name a study gives it (``params``, ``flops``...)."""
        return {name: float(getattr(self, name)) for name in self.COST_NAMES if getattr(self, name) is not None}

    @classmethod
    def _from(cls, found: dict[str, Any]) -> ModelCosts:
        counts: dict[str, int] = {name: int(found[name]) for name in cost_names.COUNTS if name in found}
        return cls(**{"embedding_params": 0, "flops": 0, **found, **counts})


@dataclass(frozen=True)
class RunResult:
    """One training run of a trial with several (folds, repeats): its value and what it measured."""

    name: str
    seed: int | None
    value: float  # the monitored metric's best value
    values: dict[str, float]  # each metric the study names, at the run's best epoch
    best_epoch: int
    epochs_run: int | None
    train_seconds: float | None


@dataclass(frozen=True)
class TrainingOutcome(StoredRecord):
    """How a completed trial trained: its first run's epochs and history, the times averaged over its
    runs, and with several runs each run's result and the spread of their values."""

    epochs_run: int
    best_epoch: int  # 1-based
    train_seconds: float
    seconds_per_epoch: float
    train_val_gap: float | None  # training minus validation monitored metric at the best epoch
    history: dict[str, list[float]]
    runs: tuple[RunResult, ...] = ()  # empty with one run
    value_std: float | None = None
    value_ci95: tuple[float | None, float | None] | None = None

    KEEP_NONE = ("train_val_gap",)
    REQUIRED = ("best_epoch",)

    def as_attrs(self) -> dict[str, Any]:
        attrs = super().as_attrs()
        del attrs["runs"]
        if self.runs:
            attrs["run_values"] = {run.name: run.value for run in self.runs}
            attrs["run_best_epochs"] = [run.best_epoch for run in self.runs]
            attrs["runs"] = [
                {
                    "name": run.name,
                    "seed": run.seed,
                    "values": run.values,
                    "best_epoch": run.best_epoch,
                    "epochs_run": run.epochs_run,
                    "train_seconds": run.train_seconds,
                }
                for run in self.runs
            ]
        return attrs

    @classmethod
    def _from(cls, found: dict[str, Any]) -> TrainingOutcome:
        return cls(**{"epochs_run": found["best_epoch"], "train_seconds": 0.0, "seconds_per_epoch": 0.0,
                      "train_val_gap": None, "history": {}, **found, "runs": ()})  # fmt: skip

    @classmethod
    def read(cls, trial: AttrSource) -> TrainingOutcome | None:
        outcome = super().read(trial)
        if outcome is None:
            return None
        attrs = attrs_of(trial)
        values = attrs.get("run_values") or {}
        details = {run["name"]: run for run in attrs.get("runs") or ()}
        best_epochs = list(attrs.get("run_best_epochs") or ())
        runs = tuple(
            RunResult(
                name=name,
                seed=details.get(name, {}).get("seed"),
                value=float(value),
                values=dict(details.get(name, {}).get("values") or {}),
                best_epoch=int(details.get(name, {}).get("best_epoch", best_epochs[i] if i < len(best_epochs) else 0)),
                epochs_run=details.get(name, {}).get("epochs_run"),
                train_seconds=details.get(name, {}).get("train_seconds"),
            )
            for i, (name, value) in enumerate(values.items())
        )
        ci95 = outcome.value_ci95
        return dataclasses.replace(outcome, runs=runs, value_ci95=None if ci95 is None else (ci95[0], ci95[1]))

    def epochs_to_retrain(self) -> int:
        """The epochs the search found best: the best epoch, or its mean over the runs."""
        if self.runs:
            return max(1, round(sum(run.best_epoch for run in self.runs) / len(self.runs)))
        return self.best_epoch


@dataclass(frozen=True)
class Pruned(StoredRecord):
    """How far a pruned trial trained, and why it was stopped (the multi-objective pruner says why)."""

    epochs_run: int
    reason: str | None = None

    KEYS = {"reason": "prune_reason"}
    REQUIRED = ("epochs_run",)

    @classmethod
    def read(cls, trial: AttrSource) -> Pruned | None:
        """The record of a pruned trial (a completed one's ``epochs_run`` is its :class:`TrainingOutcome`'s)."""
        state = getattr(trial, "state", None)
        if state is not None and state.name != "PRUNED":
            return None
        if TrainingOutcome.key("best_epoch") in attrs_of(trial):  # it trained to the end
            return None
        return super().read(trial)


@dataclass(frozen=True)
class Failure(StoredRecord):
    """Why a trial failed, in one line, and the end of the traceback when an unexpected error failed it.

    Written by the objective, the worker loop (a stop request) and the dead-worker check, which also
    records the signal that killed the worker: a trial that killed two workers is not retried again.
    """

    reason: str
    traceback: str | None = None
    signal: str | None = None  # the signal that killed the trial's worker (``SIGSEGV``), when one did

    KEYS = {"reason": "fail_reason", "traceback": "fail_traceback", "signal": "killed_by_signal"}
    REQUIRED = ("reason",)

    @property
    def stopped(self) -> bool:
        """Whether the trial was interrupted by a stop request, not by a fault of its own."""
        return self.reason.startswith(STOPPED_BY)


#: The attribute that holds :attr:`Failure.reason`, for code that must name it (Optuna's CLI, a query).
FAIL_REASON = Failure.key("reason")
#: The attribute that holds :class:`MonitoredCurve` (the pruner's tests write curves under it).
INTERMEDIATE_VALUES_KEY = "intermediate_values"


@dataclass(frozen=True)
class Resumed(StoredRecord):
    """A retry that resumed from its checkpoint: the epochs of the run in progress it did not train,
    and with several runs the run it resumed."""

    from_epoch: int
    run: str | None = None

    KEYS = {"from_epoch": "resumed_from_epoch", "run": "resumed_run"}
    REQUIRED = ("from_epoch",)


@dataclass(frozen=True)
class QueuedFrom(StoredRecord):
    """A trial queued from another study's trial: which one (``"STUDY trial N ..."``)."""

    source: str

    KEYS = {"source": "warm_start_from"}
    REQUIRED = ("source",)


@dataclass(frozen=True)
class MonitoredCurve(StoredRecord):
    """The monitored validation metric at each step, as the multi-objective pruner keeps it (Optuna refuses
    ``Trial.report`` in a study with several objectives: :mod:`gapsearch.search.pruning`)."""

    values: dict[int, float]

    KEYS = {"values": INTERMEDIATE_VALUES_KEY}  # {"step": value}: JSON keys are strings
    REQUIRED = ("values",)

    def as_attrs(self) -> dict[str, Any]:
        return {self.key("values"): {str(step): self.values[step] for step in sorted(self.values)}}

    @classmethod
    def _from(cls, found: dict[str, Any]) -> MonitoredCurve:
        stored = found["values"]
        return cls({int(step): float(value) for step, value in stored.items()} if isinstance(stored, dict) else {})


def on_storage(storage: optuna.storages.BaseStorage, trial_id: int) -> Callable[[str, Any], None]:
    """Where a record is written for a trial this process does not hold (a dead worker's): its storage, by id."""
    return functools.partial(storage.set_trial_user_attr, trial_id)


def stored_attrs(trial: AttrSource) -> dict[str, Any]:
    """Every user attribute of ``trial`` as stored (what optuna-dashboard shows), for the Python API."""
    return dict(attrs_of(trial))


def without_records(trial: optuna.trial.FrozenTrial) -> optuna.trial.FrozenTrial:
    """A copy of ``trial`` that holds none of the records of its run (a retry records its own)."""
    clean = copy.deepcopy(trial)
    clean.user_attrs = {}
    return clean


@dataclass(frozen=True)
class TrialResult:
    """Everything gapsearch stored on one trial, each part None when the trial holds none."""

    placement: Placement | None
    platform: Platform | None
    setup: TrialSetup | None
    costs: ModelCosts | None
    training: TrainingOutcome | None
    pruned: Pruned | None
    failure: Failure | None
    resumed: Resumed | None
    queued_from: QueuedFrom | None

    @classmethod
    def read(cls, trial: AttrSource) -> TrialResult:
        return cls(
            placement=Placement.read(trial),
            platform=Platform.read(trial),
            setup=TrialSetup.read(trial),
            costs=ModelCosts.read(trial),
            training=TrainingOutcome.read(trial),
            pruned=Pruned.read(trial),
            failure=Failure.read(trial),
            resumed=Resumed.read(trial),
            queued_from=QueuedFrom.read(trial),
        )

    @property
    def epochs_run(self) -> int | None:
        """Epochs trained: to the end or early stopping, or until the trial was pruned."""
        if self.training is not None:
            return self.training.epochs_run
        return None if self.pruned is None else self.pruned.epochs_run


__all__ = [
    "FAIL_REASON",
    "INTERMEDIATE_VALUES_KEY",
    "STOPPED_BY",
    "Failure",
    "ModelCosts",
    "MonitoredCurve",
    "Placement",
    "Platform",
    "Pruned",
    "Resumed",
    "RunResult",
    "TrainingOutcome",
    "TrialResult",
    "TrialSetup",
    "QueuedFrom",
    "on_storage",
    "stored_attrs",
    "without_records",
]
