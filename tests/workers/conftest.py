"""Helpers for the worker tests: a pool of trivial workers on a real database, and the states it left."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import optuna
import pytest

from gapsearch.storage.database import open_storage
from gapsearch.workers.devices import WorkerSlot
from gapsearch.workers.pool import PoolResult, run_worker_processes
from gapsearch.workers.signals import StopSignals
from tests.conftest import ROOT


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'workers.db'}"


@pytest.fixture
def trivial_pool(monkeypatch) -> Callable[..., PoolResult]:
    """Run ``workers`` trivial worker processes on study ``name`` at ``url`` until they stop.

    ``watch`` is called with each finished trial; ``lines`` collects what the workers wrote to stderr and
    the pool's own lines; ``restarts`` is the pool's cap on restarts a minute (none by default). With
    ``requeue`` the pool opens the study as ``gapsearch run`` does, with the retry callback, so that it
    queues a dead worker's trial again (or quarantines it) itself; else only the workers' stale check does.
    """
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    def run(
        url: str,
        name: str,
        workers: int,
        *args: str,
        watch: Callable[..., None] | None = None,
        lines: list[str] | None = None,
        restarts: int = 0,
        requeue: bool = False,
    ) -> PoolResult:
        storage = open_storage(url, create=False, max_retries=3) if requeue else url
        study = optuna.load_study(study_name=name, storage=storage)
        command = [sys.executable, "-m", "tests.workers.trivial_worker", name, *args]
        callbacks = [watch] if watch is not None else []
        write = {} if lines is None else {"write": lines.append}
        with StopSignals() as stop:
            return run_worker_processes(
                [WorkerSlot(i, None) for i in range(workers)],
                command,
                storage_url=url,
                study=study,
                callbacks=callbacks,
                stop=stop,
                poll_interval=0.2,
                max_restarts_per_minute=restarts,
                **write,
            )

    return run


def state_counts(url: str, name: str) -> Counter[str]:
    study = optuna.load_study(study_name=name, storage=url)
    return Counter(t.state.name for t in study.get_trials(deepcopy=False))


SERVERS = [pytest.param("postgres_url", marks=pytest.mark.postgres), pytest.param("mysql_url", marks=pytest.mark.mysql)]
STORAGES = [pytest.param("sqlite_url"), *SERVERS]


def own_lines(lines: list[str]) -> list[str]:
    """The pool's own lines among ``lines``: not those it forwarded from a worker (``worker N: ...``)."""
    return [line for line in lines if not re.match(r"worker \d+: ", line)]


def trials_of(url: str, name: str) -> dict[int, optuna.trial.FrozenTrial]:
    return {t.number: t for t in optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)}


def signal_a_running_worker(
    study: optuna.Study, signum: int, *, from_number: int = 1, training: bool = False
) -> tuple[threading.Thread, dict[str, int]]:
    """A started thread that sends ``signum`` to the worker of the first running trial numbered ``from_number``
    or more once it has its parameters (and with ``training``, a reported step); the trial's ``number``,
    ``pid`` and ``worker`` go into the dict."""
    signalled: dict[str, int] = {}

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
                ready = trial.params and "pid" in trial.user_attrs and (trial.intermediate_values or not training)
                if ready and trial.number >= from_number:
                    pid = trial.user_attrs["pid"]
                    signalled.update(number=trial.number, pid=pid, worker=int(trial.user_attrs["worker_id"]))
                    os.kill(pid, signum)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=watch)
    thread.start()
    return thread, signalled
