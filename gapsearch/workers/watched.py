"""``gapsearch run`` with one worker: the run goes on in a child process that the command watches.

A run without a pool trains in one process, and a crash there (TensorFlow segfaulting on an
allocation it cannot make, the kernel's OOM killer) took the command down without a word and
left its trial RUNNING until its heartbeat went stale. So ``run`` starts itself again as a child
with the same options (the storage URL in the environment, never on a command line), whose
output goes straight to the terminal, and only waits: it passes SIGINT and SIGTERM on, exits with
the child's exit code, and when a signal killed the child it fails the trial the child held
(quarantining it when its parameters killed a worker before: :mod:`gapsearch.workers.deaths`) and
says so in one line. The child is the run as it always was, seeds and output included; it dies
with the command (Linux's ``PR_SET_PDEATHSIG``), so killing ``run`` still kills its trial. With
``workers.recycle_after: K`` the child ends after K trials (exit code ``RECYCLE_EXIT_CODE``, as a
pool's worker does) and the command starts a fresh one with the time the run has left, which samples
with a seed of its own, so that one worker's memory is bounded as a pool's is.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError
from gapsearch.storage.database import STORAGE_ENV
from gapsearch.workers.devices import WORKER_START_ENV
from gapsearch.workers.signals import STOP_SIGNALS

if TYPE_CHECKING:
    from gapsearch.spec.study import StudySpec
    from gapsearch.workers.signals import StopSignals

WATCHED_ENV = "GAPSEARCH_WATCHED_BY"  # in the child's environment: the pid of the command that watches it
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def is_watched_child() -> bool:
    """Whether this process is the run a ``gapsearch run`` command started and watches."""
    return WATCHED_ENV in os.environ


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when the command watching it dies, as the run's own process would.

    Linux only (``prctl``); elsewhere a child whose command was killed finishes its trial. A command that
    died before this call leaves the child nothing to do.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: not Linux
        return
    if os.getppid() != int(os.environ[WATCHED_ENV]):
        os._exit(1)


def watched_run_command(
    study_file: Path,
    *,
    n_trials: int | None,
    timeout: float | None,
    progress: bool,
    workers: int | None,
    gpus: str | None,
    trials_per_gpu: int | None,
    debug: bool,
) -> list[str]:
    """The command line of the child: ``gapsearch run`` with the same options, less ``--storage``."""
    from gapsearch.workers.pool import gapsearch_command

    options = {"--n-trials": n_trials, "--timeout": timeout, "--workers": workers, "--gpus": gpus}
    options["--trials-per-gpu"] = trials_per_gpu
    progress_flag = "--progress" if progress else "--no-progress"
    return gapsearch_command("run", study_file, progress_flag, debug=debug, options=options)


def run_watched(
    command: Callable[[float | None], Sequence[str]],
    spec: StudySpec,
    storage_url: str,
    stop: StopSignals,
    *,
    timeout: float | None,
) -> int:
    """Run ``command(timeout)`` (see :func:`watched_run_command`) as a child, passing stop signals on; its exit
    code. A child that was recycled (``workers.recycle_after``) is followed by a fresh one, given
    ``command(what is left of timeout)``, until one ends otherwise or the time is up (exit 0).

    Raises:
        GapsearchError: a signal killed the child; the line says which, and what became of its trial.
    """
    from gapsearch.workers.pool import RECYCLE_EXIT_CODE

    env = {**os.environ, STORAGE_ENV: storage_url, WATCHED_ENV: str(os.getpid())}
    started = time.monotonic()
    children: list[subprocess.Popen[bytes]] = []

    def pass_on(signum: int, _frame: object) -> None:
        stop.requested = stop.requested or signal.Signals(signum).name
        if children:
            children[-1].send_signal(signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in STOP_SIGNALS}
    try:
        left = timeout
        while True:
            children.append(subprocess.Popen(list(command(left)), env={**env, WORKER_START_ENV: str(len(children))}))
            if stop.requested:  # it came while the study file was read: the child stops as the run would have
                children[-1].send_signal(signal.Signals[stop.requested])
            returncode = children[-1].wait()
            left = None if timeout is None else timeout - (time.monotonic() - started)
            if returncode != RECYCLE_EXIT_CODE:
                break
            if stop.requested or (left is not None and left <= 0):
                return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if returncode >= 0:
        return returncode
    pid = children[-1].pid
    raise GapsearchError(f"{_death_line(spec, storage_url, pid, returncode)}; a rerun continues the study")


def _death_line(spec: StudySpec, storage_url: str, pid: int, returncode: int) -> str:
    """The dead run's trial failed and queued again, or quarantined; one line on it (see ``dead_worker_line``)."""
    from gapsearch.search.runner import join_study
    from gapsearch.workers.deaths import dead_worker_line, how_it_ended

    try:
        study = join_study(spec, storage_url)
    except GapsearchError:  # it died before the study was created, or the database is gone too
        return how_it_ended(0, pid, returncode)
    return dead_worker_line(study, 0, pid, returncode)
