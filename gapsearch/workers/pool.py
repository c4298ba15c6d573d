"""Worker processes on this machine: started, watched, restarted, stopped, and their progress merged into one
display.

Each worker is a fresh ``gapsearch worker`` process (never a fork, so TensorFlow is never
forked), started with its GPU already in ``CUDA_VISIBLE_DEVICES``. The storage URL travels
in the environment, not on the command line, so its password never shows in ``ps``. This
process only watches: it polls the study database for the progress bar and a line per
trial any of its workers finished (workers on other machines have their own), forwards
SIGINT/SIGTERM to the workers as SIGTERM, and prefixes each line a worker writes to stderr
with the worker's number. A worker that dies is reported in one line and its trial failed
with the reason and queued again, or quarantined (:mod:`gapsearch.workers.deaths`); then
a fresh worker takes its place, at most ``max_restarts_per_minute`` within any minute, so a
study reaches its budget without a person. A worker that ran ``workers.recycle_after``
trials exits with :data:`RECYCLE_EXIT_CODE` and is replaced the same way, without counting
as a death.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError
from gapsearch.masking import mask_secrets
from gapsearch.storage.database import STORAGE_ENV
from gapsearch.storage.retry import DatabaseLost
from gapsearch.trial_attrs import Placement
from gapsearch.workers.deaths import dead_worker_line
from gapsearch.workers.devices import WORKER_START_ENV, WorkerSlot
from gapsearch.workers.signals import StopSignals

if TYPE_CHECKING:
    import optuna

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]
#: The command line of a worker started now, or None when no worker should start any more (the time is up).
WorkerCommand = Callable[[], "Sequence[str] | None"]
SHUTDOWN_SECONDS = 30.0
RESTART_WINDOW_SECONDS = 60.0
#: A worker's exit code when it ran ``workers.recycle_after`` trials: replace me (no worker exits 3 otherwise).
RECYCLE_EXIT_CODE = 3


@dataclass
class PoolResult:
    """What the worker processes did: each slot's last exit code, the signal that stopped them, if any,
    and how many workers were started again after one died or was recycled."""

    exit_codes: dict[int, int] = field(default_factory=dict)
    stopped_by: str | None = None
    killed: list[int] = field(default_factory=list)  # workers that ignored the stop and were killed
    restarts: int = 0
    recycled: int = 0

    @property
    def crashed(self) -> dict[int, int]:
        return {
            index: code
            for index, code in self.exit_codes.items()
            if code not in (0, RECYCLE_EXIT_CODE) and index not in self.killed
        }


class RestartCap:
    """At most ``per_minute`` workers started again within any 60 seconds (``workers.max_restarts_per_minute``).

    A worker that dies beyond that is not replaced, so a fault that kills every worker at once (a broken
    GPU, a full disk) ends the run instead of starting workers for ever.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: deque[float] = deque()

    def recent(self, now: float) -> int:
        while self._times and now - self._times[0] >= RESTART_WINDOW_SECONDS:
            self._times.popleft()
        return len(self._times)

    def allows(self, now: float) -> bool:
        return self.recent(now) < self.per_minute

    def record(self, now: float) -> None:
        self._times.append(now)

    def summary(self, now: float) -> str:
        """``2 restarts in the last minute, at most 5 (workers.max_restarts_per_minute)``."""
        if self.per_minute == 0:
            return "restarts are off (workers.max_restarts_per_minute: 0)"
        count = self.recent(now)
        return (
            f"{count} restart{'' if count == 1 else 's'} in the last minute, "
            f"at most {self.per_minute} (workers.max_restarts_per_minute)"
        )


def gapsearch_command(
    name: str, study_file: Path, *flags: str, debug: bool, options: Mapping[str, object | None]
) -> list[str]:
    """``python -m gapsearch [--debug] NAME STUDY_FILE FLAGS...`` with each option that has a value."""
    command = [sys.executable, "-m", "gapsearch"] + (["--debug"] if debug else []) + [name, str(study_file), *flags]
    for option, value in options.items():
        if value is not None:
            command += [option, str(value)]
    return command


def worker_command(study_file: Path, *, n_trials: int | None, timeout: float | None, debug: bool) -> list[str]:
    """The command line of one local worker process."""
    options = {"--n-trials": n_trials, "--timeout": timeout}
    return gapsearch_command("worker", study_file, "--slot", "--no-progress", debug=debug, options=options)


def _forward_stderr(index: int, stream, write: Callable[[str], None]) -> None:  # noqa: ANN001
    for line in stream:
        if line.strip():
            write(f"worker {index}: {mask_secrets(line.rstrip())}")


class FinishedTrials:
    """Hands each trial that this machine's workers finished since the last look (complete, pruned or failed)
    to the callbacks.

    Workers on other machines run their own pools with their own callbacks (an MLflow tracker among
    them), so a trial they finished is theirs to hand on: taking it here would record it twice. A trial is
    this pool's when the worker loop placed it on this host, in one of ``pids`` (the workers' processes).
    """

    def __init__(self, study: optuna.Study, callbacks: Sequence[TrialCallback], pids: set[int]) -> None:
        from optuna.trial import TrialState

        self.study = study
        self.callbacks = callbacks
        self.pids = pids
        self.host = socket.gethostname()
        self.states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        self.seen = {t.number for t in study.get_trials(deepcopy=False, states=self.states)}

    def ours(self, trial: optuna.trial.FrozenTrial) -> bool:
        placement = Placement.read(trial)
        return placement is not None and placement.hostname == self.host and placement.pid in self.pids

    def poll(self) -> None:
        try:
            trials = self.study.get_trials(deepcopy=False, states=self.states)
        except Exception:  # noqa: BLE001 - the display waits for the database; the workers report real trouble
            return
        new = sorted((t for t in trials if t.number not in self.seen), key=lambda t: t.datetime_complete or 0)
        for trial in new:
            self.seen.add(trial.number)
            if not self.ours(trial):
                continue
            for callback in self.callbacks:
                callback(self.study, trial)


def run_worker_processes(
    slots: Sequence[WorkerSlot],
    command: Sequence[str] | WorkerCommand,
    *,
    storage_url: str,
    study: optuna.Study,
    callbacks: Sequence[TrialCallback] = (),
    stop: StopSignals,
    write: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    poll_interval: float = 1.0,
    max_restarts_per_minute: int = 0,
) -> PoolResult:
    """Start one process per slot running ``command``, show their trials as they finish, wait for all.

    ``command`` is a worker's command line, or a :data:`WorkerCommand` asked each time a worker starts.
    A worker that dies (killed by a signal, or an exit code other than 0 and a lost database's) is
    reported in one line, its trial failed, and a fresh one started in its slot, up to
    ``max_restarts_per_minute`` within any minute; one that exits with :data:`RECYCLE_EXIT_CODE` is
    replaced without a word. A stop signal is passed on to every worker as SIGTERM and no worker starts
    any more; a worker still running ``SHUTDOWN_SECONDS`` later is killed (its trial is failed, and its
    signal not held against the trial). A callback that raises a :class:`GapsearchError`
    (``tracking.mlflow.on_error: stop``) stops the workers the same way, and the error is raised once
    they have exited.
    """
    next_command: WorkerCommand = command if callable(command) else (lambda: command)  # type: ignore[assignment]
    base_env = {**os.environ, STORAGE_ENV: storage_url, "PYTHONUNBUFFERED": "1"}
    processes: dict[int, subprocess.Popen[str]] = {}  # each slot's latest worker process
    starts: dict[int, int] = {}  # how many times each slot's worker was started
    handled: set[int] = set()  # the processes whose exit was dealt with, by pid
    finished = FinishedTrials(study, callbacks, pids=set())
    readers = []
    result = PoolResult()
    cap = RestartCap(max_restarts_per_minute)
    stop_deadline: float | None = None
    failure: GapsearchError | None = None

    def start(slot: WorkerSlot) -> subprocess.Popen[str] | None:
        argv = next_command()
        if argv is None:
            return None
        process = subprocess.Popen(
            list(argv),
            env={**base_env, **slot.environment(), WORKER_START_ENV: str(starts.get(slot.index, 0))},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C reaches this process only; it stops the workers
        )
        starts[slot.index] = starts.get(slot.index, 0) + 1
        processes[slot.index] = process
        finished.pids.add(process.pid)
        reader = threading.Thread(target=_forward_stderr, args=(slot.index, process.stderr, write), daemon=True)
        reader.start()
        readers.append(reader)
        return process

    def stopping() -> bool:
        return stop.requested is not None or failure is not None or stop_deadline is not None

    def replace(slot: WorkerSlot) -> None:
        """Start a fresh worker in the slot of one that died, unless the restart cap says no."""
        now = time.monotonic()
        if not cap.allows(now):
            write(f"worker {slot.index} is not started again: {cap.summary(now)}; the other workers go on")
            return
        process = start(slot)
        if process is not None:
            cap.record(now)
            result.restarts += 1
            write(f"worker {slot.index} started again as pid {process.pid}: {cap.summary(now)}")

    def handle_exits() -> None:
        for slot in slots:
            process = processes.get(slot.index)
            if process is None or process.pid in handled or process.poll() is None:
                continue
            handled.add(process.pid)
            code = process.returncode
            if code == RECYCLE_EXIT_CODE:
                if not stopping() and start(slot) is not None:
                    result.recycled += 1
            # A worker that lost the database has said so itself; its trial is no dead worker's.
            elif code not in (0, DatabaseLost.exit_code):
                killed_here = slot.index in result.killed
                write(dead_worker_line(study, slot.index, process.pid, code, killed_here=killed_here))
                if not stopping():
                    replace(slot)

    def hand_on_finished_trials() -> None:
        nonlocal failure
        if failure is not None:
            return  # the callbacks have given up: no more trials are handed to them
        try:
            finished.poll()
        except GapsearchError as error:
            failure = error

    for slot in slots:
        if stop.requested:
            break
        start(slot)
    while True:
        handle_exits()
        if all(process.pid in handled for process in processes.values()):
            break
        if (stop.requested or failure is not None) and stop_deadline is None:
            result.stopped_by = stop.requested
            stop_deadline = time.monotonic() + SHUTDOWN_SECONDS
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
        if stop_deadline is not None and time.monotonic() > stop_deadline:
            for index, process in processes.items():
                if process.poll() is None:
                    process.kill()
                    result.killed.append(index)
        hand_on_finished_trials()
        time.sleep(poll_interval)
    for reader in readers:
        reader.join(timeout=5)
    hand_on_finished_trials()
    result.exit_codes = {index: process.wait() for index, process in processes.items()}
    if failure is not None:
        raise failure
    if stop.requested:
        result.stopped_by = stop.requested
    return result
