"""A worker process that dies is reported in one line, and its trial says why it failed and is retried."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
import warnings

import optuna

from gapsearch.workers.deaths import how_it_ended
from gapsearch.workers.devices import WorkerSlot
from gapsearch.workers.pool import run_worker_processes
from gapsearch.workers.signals import StopSignals
from tests.conftest import ROOT
from tests.workers.trivial_worker import create


def test_a_sigkilled_worker_is_reported_and_its_trial_failed_with_the_reason_and_retried(sqlite_url, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    # A grace period far longer than the run: only the pool's own report can fail the dead worker's trial in time.
    study = create(sqlite_url, "dead", heartbeat=1, grace=120)
    killed: dict[str, int] = {}

    def kill_a_worker_with_a_trial() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = [
                t
                for t in study.get_trials(deepcopy=False)
                if t.state.name == "RUNNING" and "pid" in t.user_attrs and t.params and t.number >= 1
            ]
            if running:
                trial = running[0]
                killed.update(
                    number=trial.number, pid=trial.user_attrs["pid"], worker=int(trial.user_attrs["worker_id"])
                )
                os.kill(trial.user_attrs["pid"], signal.SIGKILL)
                return
            time.sleep(0.05)

    lines: list[str] = []
    killer = threading.Thread(target=kill_a_worker_with_a_trial)
    killer.start()
    command = [sys.executable, "-m", "tests.workers.trivial_worker", "dead", "--budget", "6", "--sleep", "0.5"]
    command += ["--grace", "120"]
    with StopSignals() as stop:
        result = run_worker_processes(
            [WorkerSlot(i, None) for i in range(2)],
            command,
            storage_url=sqlite_url,
            study=study,
            stop=stop,
            write=lines.append,
            poll_interval=0.2,
        )
    killer.join()
    assert killed, "no running trial to kill was seen"
    assert result.exit_codes[killed["worker"]] == -signal.SIGKILL
    reason = f"worker {killed['worker']} (pid {killed['pid']}) was killed by SIGKILL"
    own_lines = [line for line in lines if not re.match(r"worker \d+: ", line)]  # not forwarded from a worker
    assert own_lines == [
        f"{reason} while running trial {killed['number']}; recorded as FAIL and queued again with its parameters"
    ]
    trials = {t.number: t for t in optuna.load_study(study_name="dead", storage=sqlite_url).get_trials()}
    dead = trials[killed["number"]]
    assert (dead.state.name, dead.user_attrs["fail_reason"]) == ("FAIL", reason)
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == dead.number]
    assert [(t.state.name, t.params) for t in retries] == [("COMPLETE", dead.params)]
    assert sum(t.state.name == "COMPLETE" for t in trials.values()) == 6
    assert not [t for t in trials.values() if t.state.name == "RUNNING"]


def test_how_a_worker_ended_names_the_signal_or_the_exit_code():
    assert how_it_ended(2, 1234, -signal.SIGKILL) == "worker 2 (pid 1234) was killed by SIGKILL"
    assert how_it_ended(0, 99, -signal.SIGSEGV) == "worker 0 (pid 99) was killed by SIGSEGV"
    assert how_it_ended(1, 7, 3) == "worker 1 (pid 7) exited with code 3"


def test_a_trial_whose_worker_elsewhere_went_silent_says_so_when_it_is_failed(sqlite_url, trivial_pool):
    study = create(sqlite_url, "silent", heartbeat=1, grace=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Optuna's note that heartbeats go with optimize()
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0.0, 1.0)})
    for key, value in {"worker_id": "3", "hostname": "gone-host", "pid": 4242}.items():
        trial.set_user_attr(key, value)
    study._storage.record_heartbeat(trial._trial_id)
    time.sleep(2.5)  # longer than the grace period: the worker on gone-host counts as dead
    result = trivial_pool(sqlite_url, "silent", 1, "--budget", "2", "--grace", "2")
    assert result.exit_codes == {0: 0}
    trials = {t.number: t for t in optuna.load_study(study_name="silent", storage=sqlite_url).get_trials()}
    assert trials[trial.number].state.name == "FAIL"
    assert trials[trial.number].user_attrs["fail_reason"] == (
        "worker 3 on gone-host (pid 4242) sent no heartbeat within the grace period: it died or was cut off"
    )
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == trial.number]
    assert [(t.state.name, t.params) for t in retries] == [("COMPLETE", trials[trial.number].params)]
