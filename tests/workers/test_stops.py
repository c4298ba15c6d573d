"""A stop is a stop: whatever error a stop became inside a trial, the trial is recorded as stopped and queued again.

TensorFlow can turn the WorkerInterrupted thrown into its step into another error (a SystemError, "bad
argument to internal function"); the trivial worker's ``--stop-as-error`` does the same to the stop.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import optuna
import pytest

from tests.workers.conftest import STORAGES, trials_of
from tests.workers.trivial_worker import create


@pytest.mark.parametrize("storage", STORAGES)
def test_a_stop_that_came_out_of_the_trial_as_another_error_is_recorded_as_the_stop(request, storage, trivial_pool):
    url = request.getfixturevalue(storage)
    study = create(url, "stop", heartbeat=1, grace=120)
    stopped: dict[str, int] = {}

    def stop_a_worker_in_its_trial() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = [
                t
                for t in study.get_trials(deepcopy=False)
                if t.state.name == "RUNNING" and "pid" in t.user_attrs and t.params and t.intermediate_values
            ]
            if running:
                stopped.update(number=running[0].number, pid=running[0].user_attrs["pid"])
                os.kill(running[0].user_attrs["pid"], signal.SIGTERM)
                return
            time.sleep(0.05)

    stopper = threading.Thread(target=stop_a_worker_in_its_trial)
    stopper.start()
    arguments = ("--budget", "3", "--sleep", "0.8", "--report-every", "0.1", "--stop-as-error", "--grace", "120")
    result = trivial_pool(url, "stop", 2, *arguments, requeue=True, restarts=5)
    stopper.join()
    assert stopped, "no running trial to stop was seen"
    # The stopped worker exited 0, as a stopped worker does (and a stopped worker is not started again).
    assert (result.exit_codes, result.restarts) == ({0: 0, 1: 0}, 0)
    trials = trials_of(url, "stop")
    trial = trials[stopped["number"]]
    assert (trial.state.name, trial.user_attrs["fail_reason"]) == ("FAIL", "the worker was stopped by SIGTERM")
    retries = [t for t in trials.values() if t.system_attrs.get("failed_trial") == trial.number]
    assert [(t.state.name, t.params) for t in retries] == [("COMPLETE", trial.params)]
    assert sum(t.state.name == "COMPLETE" for t in trials.values()) == 3
    assert [t.number for t in trials.values() if t.state == optuna.trial.TrialState.FAIL] == [trial.number]
