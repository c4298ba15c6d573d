"""Worker processes on this machine: started, watched, stopped, and their progress merged into one display.

Each worker is a fresh ``gapsearch worker`` process (never a fork, so TensorFlow is never
forked), started with its GPU already in ``CUDA_VISIBLE_DEVICES``. The storage URL travels
in the environment, not on the command line, so its password never shows in ``ps``. This
process only watches: it polls the study database for the progress bar and a line per
trial any of its workers finished (workers on other machines have their own), forwards
SIGINT/SIGTERM to the workers as SIGTERM, and prefixes each line a worker writes to stderr
with the worker's number. A worker that dies is reported in one line and its trial failed
with the reason and queued again (:mod:`gapsearch.workers.deaths`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.errors import GapsearchError
from gapsearch.masking import mask_secrets
from gapsearch.storage.database import STORAGE_ENV
from gapsearch.storage.retry import DatabaseLost
from gapsearch.workers.deaths import dead_worker_line
from gapsearch.workers.devices import WorkerSlot
from gapsearch.workers.signals import StopSignals

if TYPE_CHECKING:
    import optuna

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]
SHUTDOWN_SECONDS = 30.0


@dataclass
class PoolResult:
    """What the worker processes did: each one's exit code, and the signal that stopped them, if any."""

    exit_codes: dict[int, int] = field(default_factory=dict)
    stopped_by: str | None = None
    killed: list[int] = field(default_factory=list)  # workers that ignored the stop and were killed

    @property
    def crashed(self) -> dict[int, int]:
        return {index: code for index, code in self.exit_codes.items() if code != 0 and index not in self.killed}


def worker_command(study_file: Path, *, n_trials: int | None, timeout: float | None, debug: bool) -> list[str]:
    """The command line of one local worker process."""
    command = [sys.executable, "-m", "gapsearch"] + (["--debug"] if debug else [])
    command += ["worker", str(study_file), "--slot", "--no-progress"]
    if n_trials is not None:
        command += ["--n-trials", str(n_trials)]
    if timeout is not None:
        command += ["--timeout", str(timeout)]
    return command


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
        return trial.user_attrs.get("hostname") == self.host and trial.user_attrs.get("pid") in self.pids

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
    command: Sequence[str],
    *,
    storage_url: str,
    study: optuna.Study,
    callbacks: Sequence[TrialCallback] = (),
    stop: StopSignals,
    write: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    poll_interval: float = 1.0,
) -> PoolResult:
    """Start one process per slot running ``command``, show their trials as they finish, wait for all.

    A stop signal is passed on to every worker as SIGTERM; a worker still running
    ``SHUTDOWN_SECONDS`` later is killed (its trial is failed after the grace period). A callback
    that raises a :class:`GapsearchError` (``tracking.mlflow.on_error: stop``) stops the workers the
    same way, and the error is raised once they have exited.
    """
    base_env = {**os.environ, STORAGE_ENV: storage_url, "PYTHONUNBUFFERED": "1"}
    processes: dict[int, subprocess.Popen[str]] = {}
    finished = FinishedTrials(study, callbacks, pids=set())
    readers = []
    result = PoolResult()
    for slot in slots:
        if stop.requested:
            break
        process = subprocess.Popen(
            list(command),
            env={**base_env, **slot.environment()},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C reaches this process only; it stops the workers
        )
        processes[slot.index] = process
        finished.pids.add(process.pid)
        reader = threading.Thread(target=_forward_stderr, args=(slot.index, process.stderr, write), daemon=True)
        reader.start()
        readers.append(reader)
    stop_deadline: float | None = None
    reported: set[int] = set()
    failure: GapsearchError | None = None

    def hand_on_finished_trials() -> None:
        nonlocal failure
        if failure is not None:
            return  # the callbacks have given up: no more trials are handed to them
        try:
            finished.poll()
        except GapsearchError as error:
            failure = error

    def report_dead_workers() -> None:
        for index, process in processes.items():
            if index not in reported and process.poll() is not None:
                reported.add(index)
                # A worker that lost the database has said so itself; its trial is no dead worker's.
                if process.returncode not in (0, DatabaseLost.exit_code):
                    write(dead_worker_line(study, index, process.pid, process.returncode))

    while any(p.poll() is None for p in processes.values()):
        report_dead_workers()
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
    report_dead_workers()
    hand_on_finished_trials()
    result.exit_codes = {index: process.wait() for index, process in processes.items()}
    if failure is not None:
        raise failure
    if stop.requested:
        result.stopped_by = stop.requested
    return result
