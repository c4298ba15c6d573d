"""``gapsearch run`` / ``worker`` / ``create`` as library calls: plan the workers, then run them.

One worker slot on this machine runs in the calling process; several become worker
processes watched by :mod:`gapsearch.workers.pool`. Either way the study's budget is global.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError
from gapsearch.runner import (
    RunOutcome,
    count_finished,
    create_or_load_study,
    join_study,
    load_data,
)
from gapsearch.spec.study import StudySpec
from gapsearch.spec.workers import parse_gpus
from gapsearch.workers.devices import WorkerSlot, plan_workers
from gapsearch.workers.registry import WorkerIdentity, note_budget
from gapsearch.workers.signals import StopSignals

if TYPE_CHECKING:
    import optuna

    from gapsearch.data.cache import StudyData
    from gapsearch.warm_start import WarmStart

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]


def plan_for(
    spec: StudySpec, *, workers: int | None = None, gpus: str | None = None, trials_per_gpu: int | None = None
) -> list[WorkerSlot]:
    """The worker slots of this machine: command-line options over the study file's ``workers:``."""
    from gapsearch.errors import UserError

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


def run_workers(
    spec: StudySpec,
    *,
    storage_url: str,
    slots: Sequence[WorkerSlot],
    create: bool,
    n_trials: int | None = None,
    timeout: float | None = None,
    callbacks: Sequence[TrialCallback] = (),
    on_start: Callable[[optuna.Study, int, int], None] | None = None,
    on_data: Callable[[StudyData], None] | None = None,
    on_warm_start: Callable[[WarmStart], None] | None = None,
    stop: StopSignals,
    debug: bool = False,
    write: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    track: bool = True,
) -> RunOutcome:
    """Run the study's trials with ``slots`` workers on this machine until the (global) budget is met.

    With ``create`` the study is created if missing (``gapsearch run``); otherwise it must exist
    (``gapsearch worker``).

    Raises:
        UserError: bad data, storage or options; nothing written then.
        GapsearchError: workers failed before the budget was met.
    """
    from gapsearch.tracking import tracker_for

    if not create:
        join_study(spec, storage_url)  # a missing study is reported at once, before any framework loads
    # One of `run`'s local workers is not tracked: `run` watches its trials and tracks them.
    tracker = tracker_for(spec, write) if track else None
    if tracker is not None:
        callbacks = [*callbacks, tracker]
    outcome = _run_slots(
        spec,
        storage_url=storage_url,
        slots=slots,
        create=create,
        n_trials=n_trials,
        timeout=timeout,
        callbacks=callbacks,
        on_start=on_start,
        on_data=on_data,
        on_warm_start=on_warm_start,
        stop=stop,
        debug=debug,
        write=write,
    )
    if tracker is not None:
        tracker.finish(outcome)
    return outcome


def _run_slots(
    spec: StudySpec,
    *,
    storage_url: str,
    slots: Sequence[WorkerSlot],
    create: bool,
    n_trials: int | None,
    timeout: float | None,
    callbacks: Sequence[TrialCallback],
    on_start: Callable[[optuna.Study, int, int], None] | None,
    on_data: Callable[[StudyData], None] | None,
    on_warm_start: Callable[[WarmStart], None] | None,
    stop: StopSignals,
    debug: bool,
    write: Callable[[str], None],
) -> RunOutcome:
    from gapsearch.runner import run_study

    if len(slots) == 1:
        os.environ.update({k: v for k, v in slots[0].environment().items() if k != "GAPSEARCH_WORKER_ID"})
        worker = WorkerIdentity.current(seed_offset=0 if create else None)
        return run_study(
            spec,
            storage_url=storage_url,
            n_trials=n_trials,
            timeout=timeout,
            callbacks=callbacks,
            on_start=on_start,
            on_data=on_data,
            on_warm_start=on_warm_start,
            join=not create,
            worker=worker,
            stop=stop,
        )
    from gapsearch.workers.pool import run_worker_processes, worker_command

    budget = n_trials if n_trials is not None else spec.n_trials
    if create:
        data = load_data(spec)
        if on_data is not None:
            on_data(data)
        study = create_or_load_study(spec, storage_url, data, on_warm_start=on_warm_start)
    else:
        study = join_study(spec, storage_url)
    before = count_finished(study)
    since = datetime.datetime.now()  # Optuna's clock for trial times: local, naive
    note_budget(study, budget)
    if on_start is not None:
        on_start(study, before, budget)
    stopped_by = "budget"
    if before < budget:
        assert spec.source is not None
        result = run_worker_processes(
            slots,
            worker_command(spec.source, n_trials=n_trials, timeout=timeout, debug=debug),
            storage_url=storage_url,
            study=study,
            callbacks=callbacks,
            stop=stop,
            write=write,
        )
        stopped_by = result.stopped_by or "budget"
        after = count_finished(study)
        if result.crashed and after < budget and result.stopped_by is None:
            codes = ", ".join(f"worker {i} exited with {c}" for i, c in sorted(result.crashed.items()))
            raise GapsearchError(f"the workers stopped at {after}/{budget} finished trials ({codes}); see above")
    return RunOutcome.of(spec, storage_url, study, budget=budget, before=before, stopped_by=stopped_by, since=since)


def create_study(
    spec: StudySpec, storage_url: str, *, on_warm_start: Callable[[WarmStart], None] | None = None
) -> tuple[optuna.Study, bool]:
    """Create the study (data checked first) so that workers can join it; True when it is new."""
    from gapsearch.runner import storage_for

    data = load_data(spec)
    existing = {s.study_name for s in storage_for(spec, storage_url).get_all_studies()}
    return create_or_load_study(spec, storage_url, data, on_warm_start=on_warm_start), spec.name not in existing
