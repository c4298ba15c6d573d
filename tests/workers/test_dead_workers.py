"""A worker process that dies is reported in one line, its trial says why it failed and is retried, and a fresh
worker takes its place: a trial that killed its worker twice is quarantined instead, and restarts are capped."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings

import optuna
import pytest

from gapsearch.workers.deaths import how_it_ended
from gapsearch.workers.devices import WorkerSlot
from gapsearch.workers.pool import run_worker_processes
from gapsearch.workers.signals import StopSignals
from tests.conftest import ROOT
from tests.workers.conftest import STORAGES, own_lines, trials_of
from tests.workers.trivial_worker import create


@pytest.mark.parametrize("storage", STORAGES)
def test_a_sigkilled_worker_is_reported_its_trial_retried_and_a_fresh_worker_takes_its_place(
    request, storage, monkeypatch
):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    url = request.getfixturevalue(storage)
    # A grace period far longer than the run: only the pool's own report can fail the dead worker's trial in time.
    study = create(url, "dead", heartbeat=1, grace=120)
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
            storage_url=url,
            study=study,
            stop=stop,
            write=lines.append,
            poll_interval=0.2,
            max_restarts_per_minute=5,
        )
    killer.join()
    assert killed, "no running trial to kill was seen"
    # The slot's fresh worker finished the study with the other one: every slot's last worker exited 0.
    assert (result.exit_codes, result.restarts) == ({0: 0, 1: 0}, 1)
    reason = f"worker {killed['worker']} (pid {killed['pid']}) was killed by SIGKILL"
    trials = trials_of(url, "dead")
    fresh = {t.user_attrs["pid"] for t in trials.values() if t.user_attrs.get("worker_id") == str(killed["worker"])}
    (new_pid,) = fresh - {killed["pid"]}
    assert own_lines(lines) == [
        f"{reason} while running trial {killed['number']}; recorded as FAIL and queued again with its parameters",
        f"worker {killed['worker']} started again as pid {new_pid}: 1 restart in the last minute, at most 5 "
        "(workers.max_restarts_per_minute)",
    ]
    dead = trials[killed["number"]]
    assert (dead.state.name, dead.user_attrs["fail_reason"], dead.user_attrs["killed_by_signal"]) == (
        "FAIL",
        reason,
        "SIGKILL",
    )
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


@pytest.mark.parametrize("storage", STORAGES)
def test_a_configuration_that_segfaults_its_worker_twice_is_quarantined(request, storage, trivial_pool):
    url = request.getfixturevalue(storage)
    create(url, "segv", heartbeat=1, grace=120)
    lines: list[str] = []
    # Trial 1 and its retries kill their worker by SIGSEGV, as TensorFlow does on an allocation it cannot make.
    # Trials of 0.5 s: the other worker cannot meet the budget before the pool has queued the retry.
    arguments = ("--budget", "4", "--sleep", "0.5", "--segfault-trial", "1", "--grace", "120")
    result = trivial_pool(url, "segv", 2, *arguments, lines=lines, restarts=5, requeue=True)
    assert (result.exit_codes, result.restarts) == ({0: 0, 1: 0}, 2)
    trials = trials_of(url, "segv")
    first, retry = trials[1], next(t for t in trials.values() if t.system_attrs.get("failed_trial") == 1)
    assert (first.state.name, first.user_attrs["killed_by_signal"]) == ("FAIL", "SIGSEGV")
    assert first.user_attrs["fail_reason"].endswith("was killed by SIGSEGV")
    assert (retry.state.name, retry.params, retry.user_attrs["fail_reason"]) == (
        "FAIL",
        first.params,
        "killed its worker twice: SIGSEGV",
    )
    assert not [t for t in trials.values() if t.system_attrs.get("failed_trial") == 1 and t is not retry]
    assert sorted(t.state.name for t in trials.values()).count("COMPLETE") == 4
    assert not [t for t in trials.values() if t.state.name in ("RUNNING", "WAITING") and t.params]
    dead = [line for line in own_lines(lines) if "was killed by" in line]
    assert [line.split("; ", 1)[1] for line in dead] == [
        "recorded as FAIL and queued again with its parameters",
        "recorded as FAIL and not queued again (killed its worker twice: SIGSEGV)",
    ]
    # The sampler sees the quarantined configuration as a failed trial, as Optuna records it.
    assert retry.state == optuna.trial.TrialState.FAIL


def test_a_dead_worker_beyond_the_restart_cap_is_not_replaced(sqlite_url, trivial_pool):
    create(sqlite_url, "cap", heartbeat=1, grace=120)
    lines: list[str] = []
    arguments = ("--budget", "3", "--segfault-trial", "0", "--grace", "120")
    result = trivial_pool(sqlite_url, "cap", 1, *arguments, lines=lines, restarts=1, requeue=True)
    assert (result.exit_codes, result.restarts, result.crashed) == ({0: -signal.SIGSEGV}, 1, {0: -signal.SIGSEGV})
    assert own_lines(lines)[-1] == (
        "worker 0 is not started again: 1 restart in the last minute, at most 1 (workers.max_restarts_per_minute); "
        "the other workers go on"
    )
