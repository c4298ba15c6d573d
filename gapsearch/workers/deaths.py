"""A local worker process that died: one line saying so, its trial failed with the reason and queued again,
or quarantined when its parameters killed a worker before.

``gapsearch run`` watches the worker processes it started. When one exits abnormally (killed
by a signal, or a non-zero exit code), the trial it held would otherwise stay RUNNING until
its heartbeat goes stale and then fail without a word. Instead the run fails it at once with a
``fail_reason`` naming the worker, its pid and how it died, records the signal that killed it,
and queues it again with its parameters through the storage's retry callback (the same retry a
stale trial gets). A trial whose earlier attempt with the same parameters killed its worker by
a signal too is quarantined instead: failed with the reason ``killed its worker twice: SIGSEGV``
and not queued again, so a configuration that crashes its worker (TensorFlow segfaulting on an
allocation it cannot make) costs two workers, not one per retry. The death is noted in the
worker registry too, so that ``gapsearch status`` shows the worker as dead, how and when.

A worker elsewhere (another machine) is only seen to die by its silence: before the
stale-trial path fails such a trial, :func:`explain_stale_trials` records why on it.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gapsearch.optuna_compat import retry_history, stale_trial_ids, storage_of, trial_id
from gapsearch.trial_attrs import Failure, Placement, on_storage
from gapsearch.workers.registry import note_death

if TYPE_CHECKING:
    import optuna

#: What became of a dead worker's trial (:attr:`DeadWorkersTrial.fate`).
QUEUED = "queued again with its parameters"
RETRIES_USED_UP = "not queued again (max_retries used up)"
QUARANTINED = "not queued again"
LEFT_FOR_STALE_CHECK = "failed when its heartbeat goes stale"


@dataclass(frozen=True)
class DeadWorkersTrial:
    """A trial a dead worker held: its number, the reason it was failed with, and its fate (see above)."""

    number: int
    reason: str
    fate: str


def signal_of(returncode: int) -> str | None:
    """The name of the signal that ended a process (``SIGSEGV`` for -11), or None when it exited."""
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def ending(returncode: int) -> str:
    """``killed by SIGKILL`` or ``exited with code 1``."""
    name = signal_of(returncode)
    return f"killed by {name}" if name is not None else f"exited with code {returncode}"


def how_it_ended(index: int, pid: int, returncode: int) -> str:
    """``worker 2 (pid 1234) was killed by SIGKILL`` or ``worker 2 (pid 1234) exited with code 1``."""
    return f"worker {index} (pid {pid}) {'was ' if returncode < 0 else ''}{ending(returncode)}"


def quarantine_reason(signals: Sequence[str]) -> str:
    """``killed its worker twice: SIGSEGV``, each signal named once in the order the deaths came."""
    return f"killed its worker twice: {', '.join(dict.fromkeys(signals))}"


def _earlier_deaths(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> list[str]:
    """The signals that killed the workers of the trial's earlier attempts with the same parameters.

    A retry lists the attempts it stands for in Optuna's ``retry_history``; an attempt that was stopped,
    or whose worker went silent, exited or lost the database, recorded no signal and does not count.
    """
    history = set(retry_history(trial))
    if not history:
        return []
    earlier = sorted((t for t in study.get_trials(deepcopy=False) if t.number in history), key=lambda t: t.number)
    failures = [(Failure.read(t), t.params) for t in earlier]
    return [f.signal for f, params in failures if f is not None and f.signal and params == trial.params]


def fail_trials_of_dead_worker(
    study: optuna.Study, pid: int, reason: str, signal_name: str | None = None
) -> list[DeadWorkersTrial]:
    """Fail the running trials that worker ``pid`` of this host held, with ``reason``; queue them again.

    ``signal_name`` is the signal that killed the worker (None: it exited, or this process killed it).
    It is recorded on the trial; a trial whose earlier attempt with the same parameters killed its
    worker by a signal too is quarantined (failed with :func:`quarantine_reason`, not queued again).
    A storage without a retry callback only gets the reason: the stale-trial path fails the trial, as
    it would have. A trial another worker already failed is left as it is.
    """
    import optuna
    from optuna.trial import TrialState

    here = socket.gethostname()
    storage = storage_of(study)
    retry = (
        storage.get_heartbeat_stale_trial_callback() if hasattr(storage, "get_heartbeat_stale_trial_callback") else None
    )
    failed: list[DeadWorkersTrial] = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        placement = Placement.read(trial)
        if placement is None or placement.pid != pid or placement.hostname != here:
            continue
        earlier = _earlier_deaths(study, trial) if signal_name is not None else []
        quarantined = quarantine_reason([*earlier, signal_name]) if earlier and signal_name is not None else None
        failure = Failure(quarantined or reason, signal=signal_name)
        try:
            failure.write(on_storage(storage, trial_id(trial)))
            if retry is None:
                failed.append(DeadWorkersTrial(trial.number, failure.reason, LEFT_FOR_STALE_CHECK))
                continue
            storage.set_trial_state_values(trial_id(trial), TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # failed as stale by a worker that looked first
        if quarantined:
            failed.append(DeadWorkersTrial(trial.number, failure.reason, QUARANTINED))
            continue
        before = len(study.get_trials(deepcopy=False))
        retry(study, storage.get_trial(trial_id(trial)))
        queued = len(study.get_trials(deepcopy=False)) > before
        failed.append(DeadWorkersTrial(trial.number, failure.reason, QUEUED if queued else RETRIES_USED_UP))
    return failed


def explain_stale_trials(study: optuna.Study) -> None:
    """Give each running trial whose heartbeat stopped a ``fail_reason`` naming its worker, before it is failed.

    Optuna's stale-trial path (:func:`optuna.storages.fail_stale_trials`) fails them without a word;
    a finished trial can no longer take an attribute, so the reason goes on first.
    """
    import optuna

    storage = storage_of(study)
    stale = stale_trial_ids(study)
    if not stale:
        return
    for trial in study.get_trials(deepcopy=False):
        if trial_id(trial) not in stale or Failure.read(trial) is not None:
            continue
        worker = _worker_of(trial)
        reason = f"{worker} sent no heartbeat within the grace period: it died or was cut off"
        try:
            Failure(reason).write(on_storage(storage, trial_id(trial)))
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker failed it first


def _worker_of(trial: optuna.trial.FrozenTrial) -> str:
    """``worker 3 on HOST (pid 42)``, with ``?`` for what the trial did not record."""
    placement = Placement.read(trial) or Placement("?")
    return f"worker {placement.worker_id or '?'} on {placement.hostname} (pid {placement.pid or '?'})"


def dead_worker_line(study: optuna.Study, index: int, pid: int, returncode: int, *, killed_here: bool = False) -> str:
    """Fail what the dead worker held (see :func:`fail_trials_of_dead_worker`), note its death in the worker
    registry, and say so in one line.

    ``killed_here``: this process killed the worker (one that ignored a stop), so its signal says nothing
    about its trial and is not recorded on it.
    """
    from gapsearch.errors import GapsearchError

    ended = how_it_ended(index, pid, returncode)
    try:
        note_death(study, socket.gethostname(), pid, str(index), ending(returncode))
        failed = fail_trials_of_dead_worker(study, pid, ended, None if killed_here else signal_of(returncode))
    except GapsearchError as error:  # the database is gone too: the stale-trial path recovers the trial later
        return f"{ended}; its trial could not be recorded: {error}"
    if not failed:
        return f"{ended}; it held no running trial"
    numbers = ", ".join(str(trial.number) for trial in failed)
    which = f"trial {numbers}" if len(failed) == 1 else f"trials {numbers}"
    fates = [trial.fate for trial in failed]
    if LEFT_FOR_STALE_CHECK in fates:
        return f"{ended} while running {which}; {LEFT_FOR_STALE_CHECK}"
    if len(failed) == 1:
        fate = f"{QUARANTINED} ({failed[0].reason})" if fates[0] == QUARANTINED else fates[0]
    elif len(set(fates)) == 1:
        fate = {QUEUED: "queued again with their parameters", RETRIES_USED_UP: RETRIES_USED_UP}.get(
            fates[0], "not queued again: they killed their worker twice"
        )
    else:
        fate = ", ".join(f"trial {trial.number} {trial.fate}" for trial in failed)
    return f"{ended} while running {which}; recorded as FAIL and {fate}"
