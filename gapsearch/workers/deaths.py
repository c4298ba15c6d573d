"""A local worker process that died: one line saying so, and its trial failed with the reason and queued again.

``gapsearch run`` watches the worker processes it started. When one exits abnormally (killed
by a signal, or a non-zero exit code), the trial it held would otherwise stay RUNNING until
its heartbeat goes stale and then fail without a word. Instead the run fails it at once with a
``fail_reason`` naming the worker, its pid and how it died, and queues it again with its
parameters through the storage's retry callback (the same retry a stale trial gets).

A worker elsewhere (another machine) is only seen to die by its silence: before the
stale-trial path fails such a trial, :func:`explain_stale_trials` records why on it.
"""

from __future__ import annotations

import signal
import socket
from functools import partial
from typing import TYPE_CHECKING

from gapsearch.optuna_compat import stale_trial_ids, storage_of, trial_id
from gapsearch.trial_attrs import Failure, Placement

if TYPE_CHECKING:
    import optuna


def how_it_ended(index: int, pid: int, returncode: int) -> str:
    """``worker 2 (pid 1234) was killed by SIGKILL`` or ``worker 2 (pid 1234) exited with code 1``."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"worker {index} (pid {pid}) was killed by {name}"
    return f"worker {index} (pid {pid}) exited with code {returncode}"


def fail_trials_of_dead_worker(study: optuna.Study, pid: int, reason: str) -> list[tuple[int, bool | None]]:
    """Fail the running trials that worker ``pid`` of this host held, with ``reason``; queue them again.

    Returns each such trial's number and whether it was queued again (False once ``max_retries``
    is used up). A storage without a retry callback only gets the reason (None): the stale-trial
    path fails the trial, as it would have. A trial another worker already failed is left as it is.
    """
    import optuna
    from optuna.trial import TrialState

    here = socket.gethostname()
    storage = storage_of(study)
    retry = (
        storage.get_heartbeat_stale_trial_callback() if hasattr(storage, "get_heartbeat_stale_trial_callback") else None
    )
    failed: list[tuple[int, bool | None]] = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        placement = Placement.read(trial)
        if placement is None or placement.pid != pid or placement.hostname != here:
            continue
        try:
            Failure(reason).write(partial(storage.set_trial_user_attr, trial_id(trial)))
            if retry is None:
                failed.append((trial.number, None))
                continue
            storage.set_trial_state_values(trial_id(trial), TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # failed as stale by a worker that looked first
        before = len(study.get_trials(deepcopy=False))
        retry(study, storage.get_trial(trial_id(trial)))
        failed.append((trial.number, len(study.get_trials(deepcopy=False)) > before))
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
            Failure(reason).write(partial(storage.set_trial_user_attr, trial_id(trial)))
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker failed it first


def _worker_of(trial: optuna.trial.FrozenTrial) -> str:
    """``worker 3 on HOST (pid 42)``, with ``?`` for what the trial did not record."""
    placement = Placement.read(trial) or Placement("?")
    return f"worker {placement.worker_id or '?'} on {placement.hostname} (pid {placement.pid or '?'})"


def dead_worker_line(study: optuna.Study, index: int, pid: int, returncode: int) -> str:
    """Fail what the dead worker held (see :func:`fail_trials_of_dead_worker`) and say so in one line."""
    from gapsearch.errors import GapsearchError

    ended = how_it_ended(index, pid, returncode)
    try:
        failed = fail_trials_of_dead_worker(study, pid, ended)
    except GapsearchError as error:  # the database is gone too: the stale-trial path recovers the trial later
        return f"{ended}; its trial could not be recorded: {error}"
    if not failed:
        return f"{ended}; it held no running trial"
    numbers = ", ".join(str(number) for number, _ in failed)
    which = f"trial {numbers}" if len(failed) == 1 else f"trials {numbers}"
    if any(queued is None for _, queued in failed):
        return f"{ended} while running {which}; failed when its heartbeat goes stale"
    queued = sum(bool(queued) for _, queued in failed)
    fate = (
        "queued again with its parameters"
        if queued == len(failed)
        else "not queued again (max_retries used up)"
        if queued == 0
        else f"{queued} of them queued again (the others had used up max_retries)"
    )
    return f"{ended} while running {which}; recorded as FAIL and {fate}"
