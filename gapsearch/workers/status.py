"""``gapsearch status``: a study's trials by state, the workers seen recently (alive or dead), and stale trials.

A worker is shown as dead when the pool that started it saw its process die (how: the signal or
the exit code, and when), or when it has not noted itself for longer than the grace period without
having stopped: a live worker notes itself several times per grace period, waiting or training.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

from gapsearch.masking import mask_url
from gapsearch.optuna_compat import heartbeat_storage, stale_trial_ids, trial_id
from gapsearch.spec.study import StudySpec
from gapsearch.study_attrs import WorkerNote
from gapsearch.trial_attrs import Placement
from gapsearch.workers.registry import noted_budget, workers_seen

if TYPE_CHECKING:
    import optuna

RECENT_SECONDS = 300  # a worker noted within this many seconds counts as seen recently
STATE_ORDER = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.0f}h ago"


def _stamp(timestamp: float) -> str:
    """``2026-12-07 16:20:01``, in this machine's local time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def worker_state(worker: WorkerNote, now: float, grace_period: float) -> tuple[str, bool]:
    """What ``status`` says a worker (as the registry noted it) is doing, and whether it is dead.

    ``running trial 6  (seen 4s ago)``, ``dead: killed by SIGKILL at ... (12s ago), while running trial 6``
    (the pool saw it die), or ``dead: no sign of life since ... (47s ago; grace period 30s), while running
    trial 6`` (it went silent without stopping: killed, out of memory, its machine lost).
    """
    activity = worker.activity or "starting"
    last_seen = worker.last_seen or 0.0
    if worker.died:
        died_at = worker.died_at or 0.0
        return f"dead: {worker.died} at {_stamp(died_at)} ({_ago(now - died_at)}), while {activity}", True
    if not activity.startswith("stopped") and now - last_seen > grace_period:
        silent = f"{_ago(now - last_seen)}; grace period {grace_period:g}s"
        return f"dead: no sign of life since {_stamp(last_seen)} ({silent}), while {activity}", True
    return f"{activity}  (seen {_ago(now - last_seen)})", False


def stale_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Running trials whose heartbeat is older than the grace period (their worker is probably dead).

    Read-only: the next worker to start a trial fails them and queues them again.
    """
    if heartbeat_storage(study) is None:
        return []
    stale_ids = stale_trial_ids(study)
    return [t for t in study.get_trials(deepcopy=False) if trial_id(t) in stale_ids]


def study_status(spec: StudySpec, study: optuna.Study, storage_url: str, *, now: float | None = None) -> str:
    """Several lines: the budget (the last run's --n-trials), counts by state, recent workers, stale trials."""
    now = time.time() if now is None else now
    trials = study.get_trials(deepcopy=False)
    counts = Counter(t.state.name for t in trials)
    finished = counts["COMPLETE"] + counts["PRUNED"]
    budget = noted_budget(study) or spec.n_trials
    file_budget = "" if budget == spec.n_trials else f" (the last run's budget; the study file says {spec.n_trials})"
    lines = [
        f"study {spec.name} in {mask_url(storage_url)}: {finished}/{budget} finished trials{file_budget}",
        "trials: " + "  ".join(f"{state} {counts[state]}" for state in STATE_ORDER),
    ]
    grace = spec.workers.grace_period
    recent = [w for w in workers_seen(study) if now - max(w.last_seen or 0.0, w.died_at or 0.0) <= RECENT_SECONDS]
    states = [worker_state(worker, now, grace) for worker in recent]
    dead = sum(is_dead for _, is_dead in states)
    lines.append(
        f"workers seen in the last {RECENT_SECONDS // 60} minutes: {len(recent)}" + (f" ({dead} dead)" if dead else "")
    )
    for worker, (state, _) in zip(recent, states, strict=True):
        placement = worker.placement  # the registry notes a worker as it notes its trials
        gpu = placement.cuda_visible_devices or "-"
        lines.append(f"  worker {placement.worker_id}  {placement.hostname}  pid {placement.pid}  gpu {gpu}  {state}")
    stale = stale_trials(study)
    lines.append(f"stale trials (no heartbeat for more than {grace}s): {len(stale) or 'none'}")
    for trial in stale:
        placement = Placement.read(trial) or Placement("?")
        lines.append(
            f"  trial {trial.number}  {placement.hostname}  pid {placement.pid or '?'}  "
            "(failed and queued again when a worker next starts a trial)"
        )
    return "\n".join(lines)


def status_report(spec: StudySpec, storage_url: str) -> str:
    """``gapsearch status``: the study loaded with the workers' heartbeat settings, then :func:`study_status`.

    With the same settings as the workers, "stale" means here what it means to them.
    """
    from gapsearch.storage.database import load_existing_study

    heartbeat = {"heartbeat_interval": spec.workers.heartbeat_interval, "grace_period": spec.workers.grace_period}
    return study_status(spec, load_existing_study(storage_url, spec.name, **heartbeat), storage_url)
