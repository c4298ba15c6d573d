"""The worker loop: ask, run, tell until the study holds its budget, exactly, with any number of workers.

Workers share nothing but the database. Before a worker creates a trial it counts the
study's finished (complete or pruned) and running trials; once it has created one, it
counts again, taking only running trials numbered below its own. Trial numbers are
handed out by the database, so of several workers racing for the last slot exactly one
wins; the others put their trial back as WAITING (queued, never run) and wait while
running trials may still fail. So all workers together stop at exactly ``budget``
finished trials, and failed trials do not count: they are retried.

Crash safety: every running trial sends heartbeats; before each trial a worker fails
trials whose heartbeat stopped (their worker died) and the storage queues them again
with their parameters. A worker told to stop (SIGINT/SIGTERM) ends its trial as FAIL and
queues it again itself, whatever error the stop became on its way out of the trial. A
lost database is waited for through one outage window (the storage's, shared by every
call): the running trial stays RUNNING and goes on when the database is back, and a
worker that saw an outage end gives heartbeats a grace period to resume before it takes
anyone's trial for dead. If the window passes, the worker raises :class:`DatabaseLost`
and leaves its trial RUNNING, unrecorded: not a failure of the trial, the next run finds
it stale and retries it with its parameters.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from gapsearch.optuna_compat import begin_optimize_loop, end_optimize_loop, stop_requested, storage_of, trial_id
from gapsearch.spec.workers import GRACE_PERIOD
from gapsearch.storage.requeue import RetryWithParameters
from gapsearch.storage.retry import DatabaseLost, OutageWindow, cause_line, outage_window_of
from gapsearch.trial_attrs import STOPPED_BY, Failure, Placement
from gapsearch.workers.deaths import explain_stale_trials
from gapsearch.workers.registry import WorkerIdentity, note_worker
from gapsearch.workers.signals import StopSignals, WorkerInterrupted

if TYPE_CHECKING:
    import optuna

    from gapsearch.optuna_compat import BaseHeartbeat

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]
_NOTE_EVERY = 10.0  # seconds between notes in the worker registry while waiting or training, at most
_log = logging.getLogger(__name__)


@dataclass
class LoopResult:
    """How a worker's loop ended."""

    trials_run: int = 0
    # budget, timeout, failures, sampler (its space is used up), recycle (recycle_after trials run), SIGINT, SIGTERM
    stopped_by: str = "budget"
    failure_streak: int = 0
    last_failure: str = ""
    requeued: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class LoopSettings:
    """What a worker loop needs besides the study and the objective."""

    budget: int
    max_failures: int = 5
    max_retries: int = 3
    timeout: float | None = None
    poll_interval: float = 0.5
    orphan_seconds: float = 120.0  # a running trial no worker took up is put back after this long
    stale_check_seconds: float = 5.0  # how often a busy worker looks for trials whose worker died
    #: The study storage's outage window (:mod:`gapsearch.storage.retry`), read to know when an outage ended.
    window: OutageWindow = field(default_factory=OutageWindow)
    grace_period: float = GRACE_PERIOD  # after an outage, heartbeats get this long to resume before trials look dead
    recycle_after: int | None = None  # end after this many trials, for a fresh process to take over (a pool's)

    @property
    def note_every(self) -> float:
        """Seconds between notes in the worker registry: often enough that a live worker never looks dead
        to ``gapsearch status``, which takes one unseen for longer than the grace period for dead."""
        return min(_NOTE_EVERY, self.grace_period / 3)


class _Heartbeat:
    """Records a running trial's heartbeat now and every ``interval`` seconds until the trial ends.

    Each beat also runs ``also`` (the worker's note in the registry, which rate-limits itself),
    so a worker deep in a long trial still shows as seen.
    """

    def __init__(self, study: optuna.Study, trial_id: int, interval: int, also: Callable[[], None]) -> None:
        self._storage = cast("BaseHeartbeat", storage_of(study))
        self._trial_id = trial_id
        self._interval = interval
        self._also = also
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="gapsearch-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join(timeout=30)

    def _beat(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
                self._also()
            except Exception as error:  # noqa: BLE001 - a missed beat is retried; the grace period absorbs it
                _log.info("heartbeat of trial id %s failed: %s", self._trial_id, cause_line(error))


def _counts(study: optuna.Study, below: int | None = None) -> tuple[int, int]:
    """Finished (complete or pruned) trials, and running ones (numbered below ``below`` when given)."""
    from optuna.trial import TrialState

    finished = running = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)):
        if trial.state == TrialState.RUNNING:
            running += below is None or trial.number < below
        else:
            finished += 1
    return finished, running


def _requeue_orphans(study: optuna.Study, older_than: float) -> None:
    """Put back as WAITING the running trials that no worker ever took up, once they are old.

    A worker creates a trial and at once records a heartbeat and itself on it. A running trial
    with no worker recorded was left by a worker that died in between, or by a creation retried
    after a dropped connection; with no heartbeat it can never be found stale, so it would hold
    a slot of the budget for ever. As WAITING, the next worker to ask takes it up.
    """
    import datetime

    import optuna
    from optuna.trial import TrialState

    now = datetime.datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        started = trial.datetime_start
        placement = Placement.read(trial)
        taken_up = placement is not None and placement.worker_id is not None
        if not taken_up and started and (now - started).total_seconds() > older_than:
            try:
                storage_of(study).set_trial_state_values(trial_id(trial), TrialState.WAITING)
            except optuna.exceptions.UpdateFinishedTrialError:  # another worker got there first
                continue


def requeue(study: optuna.Study, trial: optuna.trial.FrozenTrial, max_retries: int) -> bool:
    """Queue a failed trial again with its parameters, as a stale trial is; False after ``max_retries``."""
    before = len(study.get_trials(deepcopy=False))
    RetryWithParameters(max_retries)(study, trial)
    return len(study.get_trials(deepcopy=False)) > before


def work_to_budget(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float | Sequence[float]],
    settings: LoopSettings,
    *,
    worker: WorkerIdentity,
    catch: tuple[type[Exception], ...] = (),
    callbacks: Sequence[TrialCallback] = (),
    stop: StopSignals | None = None,
) -> LoopResult:
    """Run trials of ``study`` in this process until it holds ``settings.budget`` finished trials.

    Stops early on a stop signal, after ``settings.timeout`` seconds (no new trial starts), after
    ``settings.max_failures`` failed trials in a row, or once it ran ``settings.recycle_after`` trials.
    An error outside ``catch`` fails its trial and is raised (a fatal mistake: the study cannot go on),
    unless a stop was requested: then any error is the stop's, and the trial is recorded as stopped.
    """
    import dataclasses

    import optuna
    from optuna.trial import TrialState

    # The storage is the one retry layer: every database call below waits out an outage in its window.
    settings = dataclasses.replace(settings, window=outage_window_of(storage_of(study)) or settings.window)
    own_signals = stop is None
    stop = (stop or StopSignals()).install() if own_signals else stop
    assert stop is not None
    result = LoopResult()
    started = time.time()
    last_note = 0.0

    activity = "starting"
    last_stale_check = -math.inf

    def note(now_doing: str | None = None, *, force: bool = False) -> None:
        """Note the worker in the study's registry when forced or its activity changed, else at most every 10s."""
        nonlocal last_note, activity
        changed = now_doing is not None and now_doing != activity
        activity = now_doing or activity
        if force or changed or time.monotonic() - last_note >= settings.note_every:
            last_note = time.monotonic()
            note_worker(study, worker, activity, started=started)

    storage = storage_of(study)
    interval = storage.get_heartbeat_interval() if hasattr(storage, "get_heartbeat_interval") else None
    # This loop is an optimize() loop: samplers may call study.stop() (GridSampler does once its grid is
    # used up), which Optuna allows only inside one and signals through the study's stop flag.
    begin_optimize_loop(study)
    try:
        note("starting", force=True)
        while True:
            if stop.requested:
                result.stopped_by = stop.requested
                break
            if stop_requested(study):
                result.stopped_by = "sampler"
                break
            if settings.timeout is not None and time.time() - started >= settings.timeout:
                result.stopped_by = "timeout"
                break
            finished, running = _counts(study)
            if finished >= settings.budget:
                result.stopped_by = "budget"
                break
            if settings.recycle_after is not None and result.trials_run >= settings.recycle_after:
                result.stopped_by = "recycle"  # after the budget's check: the last trial ends a run, not a process
                break
            waiting = finished + running >= settings.budget  # running trials may still fail: wait for them
            due = waiting or time.monotonic() - last_stale_check >= settings.stale_check_seconds
            # Right after an outage every trial's heartbeat looks old: give the live ones time to beat again.
            if due and not settings.window.recovered_within(settings.grace_period):
                last_stale_check = time.monotonic()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    explain_stale_trials(study)
                    optuna.storages.fail_stale_trials(study)
            if waiting:
                note("waiting for running trials")
                _requeue_orphans(study, settings.orphan_seconds)
                time.sleep(settings.poll_interval)
                continue
            trial = study.ask()
            finished, running_below = _counts(study, below=trial.number)
            if finished + running_below >= settings.budget:  # another worker took the last slot first
                storage_of(study).set_trial_state_values(trial_id(trial), TrialState.WAITING)
                continue
            frozen = _run_one(study, trial, objective, settings, worker, catch, stop, interval, note)
            result.trials_run += 1
            failure = Failure.read(frozen)
            if frozen.state == TrialState.FAIL:
                result.failure_streak += 1
                result.last_failure = "unknown" if failure is None else failure.reason
            else:
                result.failure_streak = 0
            for callback in callbacks:
                callback(study, frozen)
            if failure is not None and failure.stopped:  # interrupted, not a failure of its own
                if requeue(study, frozen, settings.max_retries):
                    result.requeued.append(frozen.number)
                result.stopped_by = stop.requested or "SIGTERM"
                break
            if result.failure_streak >= settings.max_failures:
                result.stopped_by = "failures"
                break
        note(f"stopped ({result.stopped_by})", force=True)
    finally:
        end_optimize_loop(study)
        if own_signals:
            stop.restore()
    return result


def _run_one(
    study: optuna.Study,
    trial: optuna.Trial,
    objective: Callable[[optuna.Trial], float | Sequence[float]],
    settings: LoopSettings,
    worker: WorkerIdentity,
    catch: tuple[type[Exception], ...],
    stop: StopSignals,
    interval: int | None,
    note: Callable[..., None],
) -> optuna.trial.FrozenTrial:
    import contextlib

    import optuna
    from optuna.trial import TrialState

    value: float | Sequence[float] | None = None
    fatal: BaseException | None = None
    heartbeat: contextlib.AbstractContextManager = contextlib.nullcontext()
    if interval:
        # The first beat before anything else: a trial that never had one can never be found stale.
        cast("BaseHeartbeat", storage_of(study)).record_heartbeat(trial_id(trial))
        heartbeat = _Heartbeat(study, trial_id(trial), interval, note)
    with heartbeat:
        note(f"running trial {trial.number}")
        worker.placement().write(trial)
        try:
            with stop.interruptible():
                value = objective(trial)
            state = TrialState.COMPLETE
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except DatabaseLost:
            raise  # not the trial's failure: it stays RUNNING, and the next run finds it stale and retries it
        except WorkerInterrupted as interrupted:
            state = TrialState.FAIL
            Failure(f"{STOPPED_BY} {interrupted.signal_name or stop.requested}").write(trial)
        except Exception as error:  # noqa: BLE001 - the stop, a failure of the trial's own, or fatal
            state = TrialState.FAIL
            if stop.requested:
                # The stop, whatever it became on its way out: TensorFlow can turn the WorkerInterrupted thrown
                # into its step into another error (a SystemError, "bad argument to internal function").
                Failure(f"{STOPPED_BY} {stop.requested}").write(trial)
            elif not isinstance(error, catch):
                fatal = error  # fail the trial, then stop the study
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna warns when a trial's value is not a number; it becomes FAIL
            frozen = study.tell(trial, value if state == TrialState.COMPLETE else None, state, skip_if_finished=True)
    if fatal is not None:
        raise fatal
    return frozen
