"""Running a study: data first, then the database, then trials until the budget is met.

Everything a user can get wrong (the study file, the data, the storage URL) is
checked before the database is touched, so a bad run writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError, StorageError, UserError
from gapsearch.spec.study import StudySpec
from gapsearch.storage import mask_url, open_storage
from gapsearch.workers.registry import WorkerIdentity
from gapsearch.workers.signals import StopSignals

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.dataset import TextSplits

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]
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
    best_trial: optuna.trial.FrozenTrial | None
    stopped_by: str = "budget"  # budget, timeout, SIGINT or SIGTERM

    @property
    def budget_met(self) -> bool:
        return self.finished_after >= self.budget


def load_data(spec: StudySpec) -> TextSplits:
    """Read and split the study's data (no vectorization yet), checking it fits the metric."""
    from gapsearch.data.dataset import load_splits

    splits = load_splits(spec.data, spec.base_dir, spec.seed)
    if spec.metric == "val_auc" and len(splits.class_names) != 2:
        raise UserError(
            f"{spec.source}: metric: 'val_auc' needs two classes, but the data has {len(splits.class_names)}; "
            "use 'val_accuracy' or 'val_loss'"
        )
    return splits


def storage_for(spec: StudySpec, storage_url: str, *, create: bool = True) -> optuna.storages.RDBStorage:
    """The study database with the study file's heartbeat, grace period and retries."""
    return open_storage(
        storage_url,
        create=create,
        heartbeat_interval=spec.workers.heartbeat_interval,
        grace_period=spec.workers.grace_period,
        max_retries=spec.workers.max_retries,
        wait_seconds=0 if create else WORKER_WAITS_FOR_DATABASE,
    )


def _check_direction(spec: StudySpec, study: optuna.Study, storage_url: str) -> None:
    stored = study.direction.name.lower()
    if stored != spec.direction:
        raise UserError(
            f"{spec.source}: direction: {spec.direction!r}, but study {spec.name!r} in {mask_url(storage_url)} "
            f"was created with {stored!r}; use another name or the same direction"
        )


def join_study(spec: StudySpec, storage_url: str, *, seed_offset: int = 0) -> optuna.Study:
    """Load a study that ``gapsearch run`` or ``gapsearch create`` made; a worker never creates one."""
    import optuna

    from gapsearch.optimization import make_pruner, make_sampler

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
    _check_direction(spec, study, storage_url)
    return study


def create_or_load_study(
    spec: StudySpec, storage_url: str, splits: TextSplits, *, seed_offset: int = 0
) -> optuna.Study:
    """Create the study in the database, or load it when a previous run created it."""
    import optuna

    from gapsearch.optimization import make_pruner, make_sampler

    storage = storage_for(spec, storage_url)
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        sampler=make_sampler(spec, seed_offset=seed_offset),
        pruner=make_pruner(spec),
        direction=spec.direction,
        load_if_exists=True,
    )
    _check_direction(spec, study, storage_url)
    study.set_user_attr("metric", spec.metric)
    study.set_user_attr("class_names", list(splits.class_names))
    study.set_user_attr("task", splits.task)
    if spec.text is not None:
        study.set_user_attr("study_file", spec.text)
    return study


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=finished_states()))


def run_study(
    spec: StudySpec,
    *,
    storage_url: str,
    n_trials: int | None = None,
    timeout: float | None = None,
    callbacks: Sequence[TrialCallback] = (),
    on_start: Callable[[optuna.Study, int, int], None] | None = None,
    join: bool = False,
    worker: WorkerIdentity | None = None,
    stop: StopSignals | None = None,
) -> RunOutcome:
    """Run trials of ``spec`` in this process until the study holds ``n_trials`` finished trials.

    Other workers (processes, machines) may run trials of the same study at the same time; the
    budget is global. With ``join`` the study must exist already (``gapsearch worker``).
    ``on_start(study, finished, budget)`` runs once the study is open, before any trial. A stop
    signal ends the run after the running trial is recorded as FAIL and queued again
    (``RunOutcome.stopped_by``).

    Raises:
        UserError: bad data or storage; nothing has been written to the database then.
        GapsearchError: ``max_failures`` trials failed in a row.
    """
    from gapsearch.errors import TrialFailed
    from gapsearch.runtime import import_keras
    from gapsearch.workers.gpu_memory import apply_gpu_memory_limit
    from gapsearch.workers.loop import LoopSettings, work_to_budget

    import_keras()
    apply_gpu_memory_limit()
    from gapsearch.objective import Objective

    worker = worker or WorkerIdentity.current(seed_offset=0)
    budget = n_trials if n_trials is not None else spec.n_trials
    splits = load_data(spec)
    if join:
        study = join_study(spec, storage_url, seed_offset=worker.seed_offset)
    else:
        study = create_or_load_study(spec, storage_url, splits, seed_offset=worker.seed_offset)
    before = count_finished(study)
    if on_start is not None:
        on_start(study, before, budget)
    settings = LoopSettings(
        budget=budget,
        max_failures=spec.max_failures,
        max_retries=spec.workers.max_retries,
        timeout=timeout if timeout is not None else spec.timeout,
        database=f"the study database {mask_url(storage_url)}",
        orphan_seconds=2 * spec.workers.grace_period,
    )
    result = work_to_budget(
        study, Objective(spec, splits), settings, worker=worker, catch=(TrialFailed,), callbacks=callbacks, stop=stop
    )
    if result.stopped_by == "failures":
        raise GapsearchError(
            f"stopped after {result.failure_streak} failed trial{'s' if result.failure_streak > 1 else ''} in a row; "
            f"the last failed because: {result.last_failure}"
        )
    return RunOutcome(
        study_name=spec.name,
        storage=mask_url(storage_url),
        budget=budget,
        finished_before=before,
        finished_after=count_finished(study),
        best_trial=best_trial(study),
        stopped_by=result.stopped_by,
    )


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best completed trial, or None when none has completed."""
    try:
        return study.best_trial
    except ValueError:
        return None


__all__ = ["RunOutcome", "count_finished", "create_or_load_study", "join_study", "load_data", "run_study"]
