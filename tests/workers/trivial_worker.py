"""A worker with a trivial objective, run through gapsearch's own storage and worker loop.

The objective only sleeps, so what the tests (and tests/benchmarks/) measure is the
coordination: the database, heartbeats, the budget checks, retries. Run as
``python -m tests.workers.trivial_worker STUDY_NAME --budget N`` with the storage URL in
``$GAPSEARCH_STORAGE``; it prints one JSON line with what its loop did.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence

import optuna

from gapsearch.search.selection import first_attempt_number
from gapsearch.storage.database import STORAGE_ENV, open_storage
from gapsearch.storage.retry import DatabaseLost
from gapsearch.workers.loop import LoopSettings, work_to_budget
from gapsearch.workers.pool import RECYCLE_EXIT_CODE
from gapsearch.workers.registry import WorkerIdentity
from gapsearch.workers.signals import StopSignals, WorkerInterrupted


def create(url: str, name: str, *, heartbeat: int = 1, grace: int = 3) -> optuna.Study:
    """The study the trivial workers join, created once as `gapsearch create` would."""
    storage = open_storage(url, heartbeat_interval=heartbeat, grace_period=grace, max_retries=3)
    return optuna.create_study(study_name=name, storage=storage, direction="maximize")


def _distinct_workers(study: optuna.Study) -> int:
    return len({(t.user_attrs.get("hostname"), t.user_attrs.get("pid")) for t in study.get_trials(deepcopy=False)})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("study")
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds each trial takes")
    parser.add_argument("--gather", type=int, default=0, help="trials wait until this many workers have one")
    parser.add_argument("--heartbeat", type=int, default=1)
    parser.add_argument("--grace", type=int, default=3)
    parser.add_argument("--window", type=float, default=60.0, help="the outage window, seconds")
    parser.add_argument("--report-every", type=float, default=0.0, help="seconds between reports, as epochs would")
    parser.add_argument("--recycle-after", type=int, default=None, help="end after this many trials, to be replaced")
    parser.add_argument(
        "--segfault-trial", type=int, default=None, help="the trial of this number, and its retries, kill their worker"
    )
    parser.add_argument(
        "--stop-as-error", action="store_true", help="a stop inside a trial comes out as another error, as TF's can"
    )
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with StopSignals() as stop:
        storage = open_storage(
            os.environ[STORAGE_ENV],
            create=False,
            heartbeat_interval=args.heartbeat,
            grace_period=args.grace,
            max_retries=3,
            wait_seconds=30,
            outage_window=args.window,
        )
        worker = WorkerIdentity.current()
        study = optuna.load_study(
            study_name=args.study, storage=storage, sampler=optuna.samplers.RandomSampler(seed=worker.seed_offset)
        )

        def objective(trial: optuna.Trial) -> float:
            x = trial.suggest_float("x", 0.0, 1.0)
            if args.segfault_trial is not None and first_attempt_number(trial) == args.segfault_trial:
                os.kill(os.getpid(), signal.SIGSEGV)  # what TensorFlow does on an allocation it cannot make
            deadline = time.monotonic() + 60
            while args.gather and _distinct_workers(study) < args.gather and time.monotonic() < deadline:
                time.sleep(0.1)
            try:
                if not args.report_every:
                    time.sleep(args.sleep)
                for step in range(int(args.sleep / args.report_every) if args.report_every else 0):
                    time.sleep(args.report_every)
                    trial.report(x, step)
            except WorkerInterrupted:
                if args.stop_as_error:  # the stop thrown into TensorFlow's step comes out as this
                    raise SystemError("<built-in function TFE_Py_Execute> bad argument to internal function") from None
                raise
            return x

        settings = LoopSettings(
            budget=args.budget,
            poll_interval=0.1,
            orphan_seconds=2 * args.grace,
            grace_period=args.grace,
            recycle_after=args.recycle_after,
        )
        try:
            result = work_to_budget(study, objective, settings, worker=worker, stop=stop)
        except DatabaseLost as lost:  # what the CLI's error boundary prints
            print(f"error: {lost}", file=sys.stderr)
            return lost.exit_code
    print(json.dumps({"pid": os.getpid(), "trials_run": result.trials_run, "stopped_by": result.stopped_by}))
    return RECYCLE_EXIT_CODE if result.stopped_by == "recycle" else 0


if __name__ == "__main__":
    sys.exit(main())
