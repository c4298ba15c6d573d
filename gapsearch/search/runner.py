"""What a run is made of: its data checked, its study created or joined, and what it did (:class:`RunOutcome`).

Everything a user can get wrong (the study file, the data, the storage URL) is
checked before the database is touched, so a bad run writes nothing. The run itself,
in this process or in worker processes, is :func:`gapsearch.workers.launch.run_study`.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.errors import StorageError, UserError
from gapsearch.masking import mask_secrets, mask_url
from gapsearch.optuna_compat import retry_history
from gapsearch.search.selection import best_trial, best_trials
from gapsearch.spec.metrics import COSTS, METRIC_TASKS
from gapsearch.spec.study import StudySpec
from gapsearch.storage.database import open_storage
from gapsearch.study_attrs import StudyDescription
from gapsearch.trial_attrs import Failure, Placement

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.cache import StudyData
    from gapsearch.search.warm_start import WarmStart

WORKER_WAITS_FOR_DATABASE = 30.0  # seconds a joining worker retries a database it cannot reach


def finished_states() -> tuple[optuna.trial.TrialState, ...]:
    """Trial states that count towards the budget: completed and pruned (failed ones are retried)."""
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: the budget, finished trials before and after, and why it stopped."""

    study_name: str
    storage: str  # masked
    budget: int
    finished_before: int
    finished_after: int
    best_trial: optuna.trial.FrozenTrial | None  # None in a multi-objective study: see best_trials
    best_trials: tuple[optuna.trial.FrozenTrial, ...] = ()
    stopped_by: str = "budget"  # budget, timeout, SIGINT or SIGTERM
    interrupted: int = 0  # this run's trials that a stop signal recorded as FAIL
    requeued: int = 0  # how many of them were queued again (the others had used up max_retries)

    @property
    def budget_met(self) -> bool:
        return self.finished_after >= self.budget

    @classmethod
    def of(
        cls,
        spec: StudySpec,
        storage_url: str,
        study: optuna.Study,
        *,
        budget: int,
        before: int,
        stopped_by: str,
        since: datetime.datetime,
    ) -> RunOutcome:
        """The outcome of a run of ``spec`` on this machine that started at ``since`` and found ``before``
        finished trials, read from the study now (workers on other machines stop on their own)."""
        import socket

        from optuna.trial import TrialState

        here = socket.gethostname()
        trials = study.get_trials(deepcopy=False)
        retried = {number for trial in trials for number in retry_history(trial)}  # what each retry stands for
        interrupted = [
            trial
            for trial in trials
            if trial.state == TrialState.FAIL
            and _stopped_on(trial, here)
            and trial.datetime_complete is not None
            and trial.datetime_complete >= since
        ]
        return cls(
            study_name=spec.name,
            storage=mask_url(storage_url),
            budget=budget,
            finished_before=before,
            finished_after=count_finished(study),
            best_trial=best_trial(study),
            best_trials=tuple(best_trials(study)),
            stopped_by=stopped_by,
            interrupted=len(interrupted),
            requeued=sum(trial.number in retried for trial in interrupted),
        )

    def stop_report(self) -> str:
        """The line a stopped run ends with: where the study stands, what became of the running trials."""
        if self.interrupted == 0:
            running = "no trial was running"
        else:
            which = "the running trial was" if self.interrupted == 1 else f"{self.interrupted} running trials were"
            if self.requeued == self.interrupted:
                fate = " and queued again"
            elif self.requeued == 0:
                fate = " and not queued again (max_retries used up)"
            else:
                fate = f", {self.requeued} of them queued again (the others had used up max_retries)"
            running = f"{which} recorded as FAIL{fate}"
        return (
            f"stopped by {self.stopped_by} at {self.finished_after}/{self.budget} finished trials; {running}, "
            "and a rerun continues the study"
        )


def _stopped_on(trial: optuna.trial.FrozenTrial, host: str) -> bool:
    """Whether a stop request interrupted ``trial`` while it ran on ``host``."""
    failure, placement = Failure.read(trial), Placement.read(trial)
    return failure is not None and failure.stopped and placement is not None and placement.hostname == host


def load_data(spec: StudySpec) -> StudyData:
    """The study's search data behind the on-disk cache, checked to fit the metric (no vectorization yet)."""
    from gapsearch.data.cache import StudyData

    data = StudyData(spec.data, spec.base_dir, spec.seed)
    check_metric_fits(spec, data.info.task, len(data.info.class_names))
    return data


def check_metric_fits(spec: StudySpec, task: str, n_classes: int) -> None:
    """Every metric the objectives and constraints name is measured for the task (no MAE for a classifier)."""
    allowed = [name for name, tasks in METRIC_TASKS.items() if task in tasks]
    for metric in dict.fromkeys([*spec.objective_names, *spec.constraints]):
        if metric not in COSTS and metric not in allowed:
            raise UserError(
                f"{spec.source}: {_key_naming(spec, metric)}: {metric!r} is not measured for a {task} task; "
                f"use {', '.join(map(repr, allowed))}"
            )


def _key_naming(spec: StudySpec, metric: str) -> str:
    """The study file's key that names ``metric``: ``metric``, ``objectives[i].metric`` or ``constraints.NAME``."""
    if spec.objectives is None and spec.metric == metric:
        return "metric"
    for index, objective in enumerate(spec.objectives or ()):
        if objective.metric == metric:
            return f"objectives[{index}].metric"
    return f"constraints.{metric}"


def storage_for(spec: StudySpec, storage_url: str, *, create: bool = True) -> optuna.storages.RDBStorage:
    """The study database with the study file's heartbeat, grace period and retries."""
    return open_storage(
        storage_url,
        create=create,
        heartbeat_interval=spec.workers.heartbeat_interval,
        grace_period=spec.workers.grace_period,
        max_retries=spec.workers.max_retries,
        wait_seconds=0 if create else WORKER_WAITS_FOR_DATABASE,
        outage_window=spec.workers.outage_window,
    )


def join_study(spec: StudySpec, storage_url: str, *, seed_offset: int = 0) -> optuna.Study:
    """Load a study that ``gapsearch run`` or ``gapsearch create`` made; a worker never creates one."""
    import optuna

    from gapsearch.search.algorithms import make_pruner, make_sampler

    storage = storage_for(spec, storage_url, create=False)
    try:
        study = optuna.load_study(
            study_name=spec.name,
            storage=storage,
            sampler=make_sampler(spec, seed_offset=seed_offset),
            pruner=make_pruner(spec),
        )
    except KeyError:
        raise StorageError(
            f"no study {spec.name!r} in {mask_url(storage_url)}; create it first with "
            f"`gapsearch create {spec.source.name if spec.source else 'STUDY.yaml'}` (or `gapsearch run`)"
        ) from None
    _check_stored_objectives(spec, study, storage_url)
    return study


def create_or_load_study(
    spec: StudySpec,
    storage_url: str,
    data: StudyData,
    *,
    seed_offset: int = 0,
    on_warm_start: Callable[[WarmStart], None] | None = None,
) -> optuna.Study:
    """Create the study in the database, or load it when a previous run created it; write its note.

    With ``warm_start``, the source's best parameter sets are read first and queued once the study
    exists (once per study); ``on_warm_start`` receives what was queued and skipped.
    """
    import optuna

    from gapsearch.search.algorithms import make_pruner, make_sampler
    from gapsearch.search.artifacts import open_artifact_store, save_study_note
    from gapsearch.search.portfolio import plan_portfolio
    from gapsearch.search.warm_start import plan_warm_start, queue_warm_start

    open_artifact_store(spec.artifacts)  # a store that cannot be made stops the run before the database
    warm_start = plan_warm_start(spec, storage_url)  # the source is read before this study's database is touched
    storage = storage_for(spec, storage_url)
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        sampler=make_sampler(spec, seed_offset=seed_offset),
        pruner=make_pruner(spec),
        directions=spec.directions,
        load_if_exists=True,
    )
    _check_stored_objectives(spec, study, storage_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # stable in use since Optuna 3.2
        study.set_metric_names(spec.objective_names)  # what optuna-dashboard calls the objectives
    StudyDescription(
        metric=spec.monitored.metric,
        objectives=tuple(objective.model_dump() for objective in spec.resolved_objectives),
        class_names=tuple(data.info.class_names),
        task=data.info.task,
        study_file=None if spec.text is None else mask_secrets(spec.text, also=(storage_url,)),
    ).write(study)
    save_study_note(study, spec, data, storage_url=storage_url)
    for plan in (warm_start, plan_portfolio(spec)):  # the user's own study first, then the portfolio
        if plan is not None:
            queued = queue_warm_start(study, plan)
            if on_warm_start is not None:
                on_warm_start(queued)
    return study


def _check_stored_objectives(spec: StudySpec, study: optuna.Study, storage_url: str) -> None:
    """A study keeps its objectives: the same directions (and names, once stored) or a one-line error."""
    stored = [direction.name.lower() for direction in study.directions]
    where = f"study {spec.name!r} in {mask_url(storage_url)}"
    if stored != spec.directions:
        if len(stored) == len(spec.directions) == 1:
            raise UserError(
                f"{spec.source}: direction: {spec.directions[0]!r}, but {where} was created with {stored[0]!r}; "
                "use another name or the same direction"
            )
        raise UserError(
            f"{spec.source}: objectives: directions {spec.directions}, but {where} was created with {stored}; "
            "use another name or the same objectives"
        )
    names = study.metric_names
    if names is not None and list(names) != spec.objective_names:
        key = "metric" if spec.objectives is None else "objectives"
        raise UserError(
            f"{spec.source}: {key}: {', '.join(spec.objective_names)}, but {where} was created with "
            f"{', '.join(names)}; use another name or the same objectives"
        )


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=finished_states()))


__all__ = [
    "RunOutcome",
    "check_metric_fits",
    "count_finished",
    "create_or_load_study",
    "join_study",
    "load_data",
    "storage_for",
]
