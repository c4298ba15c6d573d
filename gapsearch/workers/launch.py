"""The one way through a run: ``gapsearch run`` and ``worker``, the Python API and every worker process.

:func:`run_study` is the whole sequence: the study joined (a worker, once) or, after the database
and then the data are checked, created; the tracker started; the loop run in this process (one
worker slot) or in worker processes watched by :mod:`gapsearch.workers.pool` (several); the
outcome summarized. Either way the study's budget is global. A worker process of a local pool
is ``gapsearch worker --slot``, so it goes through the same function as everything else.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError, UserError
from gapsearch.search.runner import RunOutcome, count_finished, create_or_load_study, join_study, load_data, storage_for
from gapsearch.spec.study import StudySpec
from gapsearch.spec.workers import parse_gpus
from gapsearch.storage.database import check_database
from gapsearch.workers.devices import WORKER_ID_ENV, WORKER_START_ENV, WorkerSlot, plan_workers
from gapsearch.workers.registry import WorkerIdentity, note_budget
from gapsearch.workers.signals import StopSignals

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.cache import StudyData
    from gapsearch.search.tracking import MlflowTracker
    from gapsearch.search.warm_start import WarmStart
    from gapsearch.workers.pool import WorkerCommand

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]


def plan_for(
    spec: StudySpec,
    *,
    workers: int | None = None,
    gpus: str | None = None,
    trials_per_gpu: int | None = None,
    pool_worker: bool = False,
) -> list[WorkerSlot]:
    """The worker slots of this machine: command-line options over the study file's ``workers:``.

    A ``pool_worker`` (``gapsearch worker --slot``, started by ``run``'s pool) is one slot in its own
    process: its GPU was chosen by the pool, in its environment.
    """
    if pool_worker:
        return [WorkerSlot(0, None)]
    settings = spec.workers
    try:
        chosen = parse_gpus(gpus) if gpus is not None else settings.gpus
    except ValueError as error:
        raise UserError(f"--gpus: {error}") from None
    return plan_workers(
        chosen,
        trials_per_gpu or settings.trials_per_gpu,
        workers or settings.count,
        memory_limit=settings.gpu_memory_limit,
    )


def run_study(
    spec: StudySpec,
    *,
    storage_url: str,
    slots: Sequence[WorkerSlot] | None = None,
    create: bool = True,
    n_trials: int | None = None,
    timeout: float | None = None,
    callbacks: Sequence[TrialCallback] = (),
    on_start: Callable[[optuna.Study, int, int], None] | None = None,
    on_data: Callable[[StudyData], None] | None = None,
    on_warm_start: Callable[[WarmStart], None] | None = None,
    stop: StopSignals | None = None,
    debug: bool = False,
    write: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    track: bool = True,
    pool_worker: bool = False,
) -> RunOutcome:
    """Run trials of ``spec`` on this machine until the study holds ``n_trials`` (default: the file's) finished.

    ``slots`` (default: one, in this process) are this machine's workers; other workers (processes,
    machines) may run trials of the same study at the same time. With ``create`` the study is created
    if missing (``gapsearch run``); otherwise it must exist and is joined once (``gapsearch worker``).
    ``on_data(data)`` runs once the data is loaded, before the study is created; ``on_start(study,
    finished, budget)`` once the study is open, before any trial; ``callbacks`` get every trial that
    finishes, from any of this machine's workers, and so does the study's tracker unless ``track`` is
    off (a worker of ``run``'s pool: ``run`` tracks its trials). A stop signal ends the run after the
    running trials are recorded as FAIL and queued again (``RunOutcome.stopped_by``). A ``pool_worker``
    (``gapsearch worker --slot``, or the child that ``gapsearch run`` with one worker watches) ends after
    ``workers.recycle_after`` trials (``stopped_by`` ``recycle``), for a fresh process to take its place.

    Raises:
        UserError: bad data, storage or options; nothing has been written to the database then.
        GapsearchError: ``max_failures`` trials failed in a row, or the workers failed before the budget was met.
    """
    slots = list(slots) if slots is not None else [WorkerSlot(0, None)]
    budget = n_trials if n_trials is not None else spec.n_trials
    worker = _become_worker(slots[0], create) if len(slots) == 1 else None
    seed_offset = worker.seed_offset if worker is not None else 0
    # The database first, before any framework loads, data is read or a file is made, so that a bad one is
    # reported at once: a worker joins the study once; `run` checks where it will create it, writing nothing.
    if create:
        check_database(storage_url)
    study = None if create else join_study(spec, storage_url, seed_offset=seed_offset)
    tracker = _tracker(spec, write, storage_url) if track else None
    trial_callbacks: list[TrialCallback] = [*callbacks, *([tracker] if tracker is not None else [])]
    if worker is not None:
        from gapsearch.runtime import import_keras
        from gapsearch.workers.gpu_memory import apply_gpu_memory_limit

        import_keras()
        apply_gpu_memory_limit()
    data = load_data(spec) if worker is not None or create else None  # a pool's workers load their own
    if data is not None and on_data is not None:
        on_data(data)
    if study is None:
        assert data is not None
        study = create_or_load_study(spec, storage_url, data, seed_offset=seed_offset, on_warm_start=on_warm_start)
    before = count_finished(study)
    since = datetime.datetime.now()  # Optuna's clock for trial times: local, naive
    note_budget(study, budget)
    if on_start is not None:
        on_start(study, before, budget)
    if worker is not None:
        assert data is not None
        recycle_after = spec.workers.recycle_after if pool_worker else None
        stopped_by = _work_here(spec, study, data, budget, timeout, worker, trial_callbacks, stop, recycle_after)
    elif before >= budget:
        stopped_by = "budget"
    else:
        command = _pool_command(spec, study, budget, n_trials, timeout, debug)
        cap = spec.workers.max_restarts_per_minute
        stopped_by = _work_in_processes(study, slots, command, storage_url, budget, trial_callbacks, stop, write, cap)
    outcome = RunOutcome.of(spec, storage_url, study, budget=budget, before=before, stopped_by=stopped_by, since=since)
    if tracker is not None:
        tracker.finish(outcome)
    return outcome


def _become_worker(slot: WorkerSlot, create: bool) -> WorkerIdentity:
    """This process as the slot's worker: its GPU set before any framework loads.

    The worker id stays the pool's (``$GAPSEARCH_WORKER_ID``) when the pool started this process.
    ``run``'s own worker samples with the study's seed; one that joins, or takes a recycled one's place,
    with its host's, id's and start's.
    """
    os.environ.update({k: v for k, v in slot.environment().items() if k != WORKER_ID_ENV})
    first = os.environ.get(WORKER_START_ENV, "0") == "0"
    return WorkerIdentity.current(seed_offset=0 if create and first else None)


def _tracker(spec: StudySpec, write: Callable[[str], None], storage_url: str) -> MlflowTracker | None:
    from gapsearch.search.tracking import tracker_for

    return tracker_for(spec, write, storage_url)


def _work_here(
    spec: StudySpec,
    study: optuna.Study,
    data: StudyData,
    budget: int,
    timeout: float | None,
    worker: WorkerIdentity,
    callbacks: Sequence[TrialCallback],
    stop: StopSignals | None,
    recycle_after: int | None,
) -> str:
    """Run the worker loop in this process; why it stopped."""
    from gapsearch.errors import TrialFailed
    from gapsearch.search.objective import Objective
    from gapsearch.workers.loop import LoopSettings, work_to_budget

    settings = LoopSettings(
        budget=budget,
        max_failures=spec.max_failures,
        max_retries=spec.workers.max_retries,
        timeout=timeout if timeout is not None else spec.timeout,
        orphan_seconds=2 * spec.workers.grace_period,
        grace_period=spec.workers.grace_period,
        recycle_after=recycle_after,
    )
    with StopSignals() if stop is None else contextlib.nullcontext(stop) as signals:
        objective = Objective(spec, data, stopping=lambda: signals.requested is not None)
        result = work_to_budget(
            study, objective, settings, worker=worker, catch=(TrialFailed,), callbacks=callbacks, stop=signals
        )
    if result.stopped_by == "failures":
        raise GapsearchError(
            f"stopped after {result.failure_streak} failed trial{'s' if result.failure_streak > 1 else ''} in a row; "
            f"the last failed because: {result.last_failure}"
        )
    return result.stopped_by


def _pool_command(
    spec: StudySpec, study: optuna.Study, budget: int, n_trials: int | None, timeout: float | None, debug: bool
) -> WorkerCommand:
    """The command line of a worker started now: with the time the run has left, none once it has run out
    or the study holds its budget (a worker that died at the end is not replaced)."""
    from gapsearch.workers.pool import worker_command

    assert spec.source is not None
    source = spec.source
    limit = timeout if timeout is not None else spec.timeout
    started = time.monotonic()

    def budget_met() -> bool:
        try:
            return count_finished(study) >= budget
        except GapsearchError:  # the database is away: the worker waits for it itself, and finds the budget
            return False

    def command() -> list[str] | None:
        left = None if limit is None else limit - (time.monotonic() - started)
        if (left is not None and left <= 0) or budget_met():
            return None
        return worker_command(source, n_trials=n_trials, timeout=left and max(round(left, 1), 0.1), debug=debug)

    return command


def _work_in_processes(
    study: optuna.Study,
    slots: Sequence[WorkerSlot],
    command: WorkerCommand,
    storage_url: str,
    budget: int,
    callbacks: Sequence[TrialCallback],
    stop: StopSignals | None,
    write: Callable[[str], None],
    max_restarts_per_minute: int,
) -> str:
    """Run one worker process per slot (each a ``gapsearch worker --slot``) and watch them, starting a fresh
    one where one died (up to ``max_restarts_per_minute``) or was recycled; why they stopped."""
    from gapsearch.workers.pool import run_worker_processes

    with StopSignals() if stop is None else contextlib.nullcontext(stop) as signals:
        result = run_worker_processes(
            slots,
            command,
            storage_url=storage_url,
            study=study,
            callbacks=callbacks,
            stop=signals,
            write=write,
            max_restarts_per_minute=max_restarts_per_minute,
        )
    after = count_finished(study)
    if result.crashed and after < budget and result.stopped_by is None:
        from gapsearch.storage.retry import DatabaseLost

        codes = ", ".join(f"worker {i} exited with {c}" for i, c in sorted(result.crashed.items()))
        line = f"the workers stopped at {after}/{budget} finished trials ({codes}); see above"
        if all(code == DatabaseLost.exit_code for code in result.crashed.values()):
            raise DatabaseLost(line)  # each lost the database: `run` exits as one worker of its own would
        raise GapsearchError(line)
    return result.stopped_by or "budget"


def create_study(
    spec: StudySpec, storage_url: str, *, on_warm_start: Callable[[WarmStart], None] | None = None
) -> tuple[optuna.Study, bool]:
    """Create the study (database and data checked first) so that workers can join it; True when it is new."""
    check_database(storage_url)
    data = load_data(spec)
    existing = {s.study_name for s in storage_for(spec, storage_url).get_all_studies()}
    return create_or_load_study(spec, storage_url, data, on_warm_start=on_warm_start), spec.name not in existing


__all__ = ["create_study", "plan_for", "run_study"]
