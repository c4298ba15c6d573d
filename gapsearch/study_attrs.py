"""What a study stores beside its trials, as typed records: each written in one place and read back in one.

User attributes, which optuna-dashboard shows: what a run of the study file says of the study
(:class:`StudyDescription`: the monitored metric, the objectives, the class names, the task and the study file,
secrets masked), that a warm start was queued (:class:`WarmStartDone`, under its plan's key), what ``evaluate``
measured on the test split (:class:`HeldOutMetrics`, under ``test_metrics`` by trial number) and each
comparison (``compare:PARAM``; its typed form is :class:`gapsearch.results.comparison.Comparison`). System
attributes, gapsearch's own bookkeeping, written through the storage by the study's id: each worker's note
of itself (:class:`WorkerNote`, under ``gapsearch:worker:HOST:PID``) and the budget of the last run
(``gapsearch:budget``). The attribute names live in this module, and no other module reads or writes a
study's attributes (``tests/test_architecture.py``); the dashboard's notes are optuna-dashboard's
(:mod:`gapsearch.optuna_compat`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gapsearch.records import StoredRecord, attrs_of
from gapsearch.trial_attrs import Placement

if TYPE_CHECKING:
    import optuna

#: The keys of the warm starts a study records as done: the user's own source study, and the portfolio.
WARM_START_DONE = "warm_start"
PORTFOLIO_DONE = "portfolio"
#: The prefix of a stored comparison's user attribute: ``compare:PARAM``.
COMPARISON_PREFIX = "compare:"
#: The prefix of a worker's note (``gapsearch:worker:HOST:PID``) and the key of the budget, system attributes.
WORKER_KEY_PREFIX = "gapsearch:worker:"
BUDGET_KEY = "gapsearch:budget"


@dataclass(frozen=True)
class StudyDescription(StoredRecord):
    """What the study file says of the study, written by each run: the monitored metric, the objectives (as
    the study file resolved them), the class names and task of the data, and the study file itself, masked."""

    metric: str
    objectives: tuple[dict[str, Any], ...] = ()
    class_names: tuple[str, ...] = ()
    task: str | None = None
    study_file: str | None = None  # None: the study was not made from a file

    REQUIRED = ("metric",)

    @classmethod
    def _from(cls, found: dict[str, Any]) -> StudyDescription:
        objectives = tuple(dict(objective) for objective in found.pop("objectives", ()) or ())
        class_names = tuple(str(name) for name in found.pop("class_names", ()) or ())
        return cls(objectives=objectives, class_names=class_names, **found)


@dataclass(frozen=True)
class WarmStartDone:
    """That a warm start was queued on the study, so that a rerun does not queue it again: from which study and
    storage (masked; empty for the portfolio), and how many parameter sets."""

    study: str
    storage: str
    queued: int

    def write(self, study: optuna.Study, key: str) -> None:
        """Record it under ``key`` (:data:`WARM_START_DONE` or :data:`PORTFOLIO_DONE`)."""
        study.set_user_attr(key, dataclasses.asdict(self))

    @classmethod
    def read(cls, study: optuna.Study, key: str) -> WarmStartDone | None:
        done = attrs_of(study).get(key)
        if not isinstance(done, Mapping):
            return None
        return cls(str(done.get("study", "")), str(done.get("storage", "")), int(done.get("queued", 0)))


@dataclass(frozen=True)
class HeldOutMetrics:
    """What ``evaluate`` measured for one trial's configuration on the test split (a rerun replaces it)."""

    metrics: dict[str, float]
    epochs: int
    include_validation: bool
    n_train: int
    n_test: int

    #: The study's user attribute: ``{"TRIAL NUMBER": {metrics, epochs, ...}}``.
    KEY: ClassVar[str] = "test_metrics"

    def write(self, study: optuna.Study, trial_number: int) -> None:
        stored = dict(attrs_of(study).get(self.KEY) or {})
        stored[str(trial_number)] = dataclasses.asdict(self)
        study.set_user_attr(self.KEY, stored)

    @classmethod
    def read_all(cls, study: optuna.Study) -> dict[int, HeldOutMetrics]:
        """Every measurement stored on ``study``, by trial number."""
        stored = attrs_of(study).get(cls.KEY) or {}
        names = [field.name for field in dataclasses.fields(cls)]
        return {int(number): cls(**{name: record[name] for name in names}) for number, record in stored.items()}


def comparison_key(param: str) -> str:
    """The user attribute a comparison of ``param`` is stored under."""
    return COMPARISON_PREFIX + param


def write_comparison(study: optuna.Study, param: str, record: Mapping[str, Any]) -> None:
    """Store a comparison's record (JSON-ready) on ``study``; a rerun replaces it."""
    study.set_user_attr(comparison_key(param), dict(record))


def read_comparisons(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """The comparison records stored on ``study``, by parameter name."""
    attrs = attrs_of(study)
    return {
        key.removeprefix(COMPARISON_PREFIX): value for key, value in attrs.items() if key.startswith(COMPARISON_PREFIX)
    }


def worker_key(hostname: str, pid: int | None) -> str:
    """The study system attribute a worker process notes itself under."""
    return f"{WORKER_KEY_PREFIX}{hostname}:{pid}"


@dataclass(frozen=True)
class WorkerNote:
    """What a worker process noted of itself in the study: where it runs (as it records on its trials), when it
    started, when it was last seen and what it was doing; and how and when it died, when its pool saw it die."""

    placement: Placement
    started: float | None = None
    last_seen: float | None = None
    activity: str | None = None
    died: str | None = None  # "killed by SIGKILL", "exited with code 1"
    died_at: float | None = None

    def as_attr(self) -> dict[str, Any]:
        """The system attribute's value: the placement's fields and the others that are set."""
        noted = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        del noted["placement"]
        return {**self.placement.as_attrs(), **{name: value for name, value in noted.items() if value is not None}}

    def write(self, storage: optuna.storages.BaseStorage, study_id: int) -> None:
        key = worker_key(self.placement.hostname, self.placement.pid)
        storage.set_study_system_attr(study_id, key, self.as_attr())

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> WorkerNote:
        names = [field.name for field in dataclasses.fields(cls) if field.name != "placement"]
        return cls(Placement.read(value) or Placement("?"), **{name: value.get(name) for name in names})

    @classmethod
    def read(cls, storage: optuna.storages.BaseStorage, study_id: int, hostname: str, pid: int) -> WorkerNote | None:
        value = storage.get_study_system_attrs(study_id).get(worker_key(hostname, pid))
        return None if value is None else cls.of(value)

    @classmethod
    def read_all(cls, storage: optuna.storages.BaseStorage, study_id: int) -> list[WorkerNote]:
        """Every worker that ever noted itself in the study, most recently seen first."""
        attrs = storage.get_study_system_attrs(study_id)
        notes = [cls.of(value) for key, value in attrs.items() if key.startswith(WORKER_KEY_PREFIX)]
        return sorted(notes, key=lambda note: -float(note.last_seen or 0))


def write_budget(storage: optuna.storages.BaseStorage, study_id: int, budget: int) -> None:
    """Record the budget the last run or worker works to (``--n-trials``, else the study file's ``n_trials``)."""
    storage.set_study_system_attr(study_id, BUDGET_KEY, budget)


def read_budget(storage: optuna.storages.BaseStorage, study_id: int) -> int | None:
    budget = storage.get_study_system_attrs(study_id).get(BUDGET_KEY)
    return None if budget is None else int(budget)


__all__ = [
    "BUDGET_KEY",
    "COMPARISON_PREFIX",
    "PORTFOLIO_DONE",
    "WARM_START_DONE",
    "WORKER_KEY_PREFIX",
    "HeldOutMetrics",
    "StudyDescription",
    "WarmStartDone",
    "WorkerNote",
    "comparison_key",
    "read_budget",
    "read_comparisons",
    "worker_key",
    "write_budget",
    "write_comparison",
]
