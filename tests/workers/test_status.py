"""``gapsearch status`` and the trial lines: the run's budget, what each worker is doing (or how and when it died),
whole words."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml

from gapsearch.results.console import REASON_WIDTH, clip, trial_line
from gapsearch.spec.loader import load_study, parse_study
from gapsearch.storage.database import STORAGE_ENV
from gapsearch.study_attrs import WorkerNote
from gapsearch.trial_attrs import Placement
from gapsearch.workers.registry import workers_seen
from gapsearch.workers.status import study_status, worker_state
from tests.conftest import ROOT, TINY_STUDY, cli
from tests.workers.conftest import STORAGES, signal_a_running_worker
from tests.workers.trivial_worker import create


def test_status_shows_the_budget_of_the_last_run_not_the_files(finished_study):
    # The shared study's file says n_trials: 3; it was run with --n-trials 4.
    status = cli("status", "tiny.yaml", cwd=finished_study.folder, check=True).stdout.splitlines()
    assert status[0] == (
        "study tiny in sqlite:///gapsearch.db: 4/4 finished trials (the last run's budget; the study file says 3)"
    )
    # The shared study may have finished more than RECENT_SECONDS before this test runs, so the worker's
    # line is read as of just after the worker's last note, through the function the command calls.
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    (worker,) = workers_seen(study)
    lines = study_status(
        load_study(finished_study.study_file), study, finished_study.storage, now=worker.last_seen + 1
    ).splitlines()
    assert lines[2] == "workers seen in the last 5 minutes: 1"
    assert lines[3].split("  ")[5] == "stopped (budget)"


def test_a_worker_that_has_finished_trials_is_never_shown_as_starting(sqlite_url, trivial_pool):
    create(sqlite_url, "busy")
    seen: list[tuple[int, str]] = []

    def look(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # Trials of 0.3s: all of them finish within the registry's 10-second rate limit.
        workers = {str(w.placement.pid): w.activity for w in workers_seen(study)}
        seen.append((trial.number, workers[str(trial.user_attrs["pid"])]))

    result = trivial_pool(sqlite_url, "busy", 1, "--budget", "4", "--sleep", "0.3", watch=look)
    assert result.exit_codes == {0: 0}
    assert len(seen) == 4
    assert all(activity != "starting" for _, activity in seen), seen
    # The pool hands trial n on after it finished; by then its worker is on a later trial, waiting or
    # stopped, or (when the pool looked before the worker asked for its next trial) still on trial n.
    for number, activity in seen:
        later = {f"running trial {m}" for m in range(number, 4)}
        assert activity in later | {"waiting for running trials", "stopped (budget)"}, seen


def test_a_long_failure_reason_is_cut_at_a_word_boundary():
    words = " ".join(f"word{i}" for i in range(100))  # 589 characters
    clipped = clip(words, REASON_WIDTH)
    assert len(clipped) <= REASON_WIDTH and clipped.endswith("\u2026")
    assert words.startswith(clipped[:-1] + " ")  # whole words only, then the ellipsis
    assert clip("short reason", REASON_WIDTH) == "short reason"
    assert clip("x" * 300, 20) == "x" * 19 + "\u2026"  # one word longer than the width is cut inside
    trial = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"fail_reason": words})
    assert trial_line(trial, "val_accuracy").endswith(f"  ({clipped})")


def _spec(name: str, grace: int):
    """A study file for the trivial workers' study ``name``, with their heartbeat settings."""
    text = (
        TINY_STUDY.replace("name: tiny", f"name: {name}")
        + f"workers: {{heartbeat_interval: 1, grace_period: {grace}}}\n"
    )
    return parse_study(yaml.safe_load(text), source=Path("s.yaml"))


def test_a_worker_is_shown_alive_dead_as_the_pool_saw_it_die_or_dead_after_its_silence():
    now = 1_800_000_000.0
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 47))
    alive = WorkerNote(Placement("vm", 42, "0"), activity="running trial 6", last_seen=now - 4)
    assert worker_state(alive, now, 30) == ("running trial 6  (seen 4s ago)", False)
    silent = dataclasses.replace(alive, last_seen=now - 47)
    assert worker_state(silent, now, 30) == (
        f"dead: no sign of life since {stamp} (47s ago; grace period 30s), while running trial 6",
        True,
    )
    assert worker_state(dataclasses.replace(silent, activity="stopped (budget)"), now, 30) == (
        "stopped (budget)  (seen 47s ago)",
        False,
    )
    killed = dataclasses.replace(alive, died="killed by SIGKILL", died_at=now - 47)
    assert worker_state(killed, now, 30) == (
        f"dead: killed by SIGKILL at {stamp} (47s ago), while running trial 6",
        True,
    )


@pytest.mark.parametrize("storage", STORAGES)
def test_status_shows_a_worker_the_pool_saw_killed_as_dead_at_once(request, storage, trivial_pool):
    url = request.getfixturevalue(storage)
    study = create(url, "killed", heartbeat=1, grace=120)
    # Trials of 30 s, killed as soon as the first has its parameters: a trial of 1 s, killed from the second one
    # on, could finish between two looks of a watcher slowed by a loaded machine (CI saw it: no kill, exit 0).
    killer, killed = signal_a_running_worker(study, signal.SIGKILL, from_number=0)
    result = trivial_pool(url, "killed", 1, "--budget", "2", "--sleep", "30", "--grace", "120", requeue=True)
    killer.join()
    assert result.exit_codes == {0: -signal.SIGKILL}
    lines = study_status(_spec("killed", 120), study, url).splitlines()
    assert lines[2] == "workers seen in the last 5 minutes: 1 (1 dead)"
    assert re.fullmatch(
        rf"  worker 0  \S+  pid {killed['pid']}  gpu -  dead: killed by SIGKILL at [-0-9: ]+ \(\ds ago\), "
        rf"while running trial {killed['number']}",
        lines[3],
    ), lines[3]


def test_status_shows_a_killed_worker_as_dead_once_it_was_silent_for_the_grace_period(sqlite_url, monkeypatch):
    # A worker no pool watches (another machine's, say): only its silence tells.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    study = create(sqlite_url, "silent", heartbeat=1, grace=2)
    command = [sys.executable, "-m", "tests.workers.trivial_worker", "silent", "--budget", "2", "--sleep", "30"]
    worker = subprocess.Popen([*command, "--grace", "2"], env={**os.environ, STORAGE_ENV: sqlite_url})
    killer, killed = signal_a_running_worker(study, signal.SIGKILL, from_number=0)
    killer.join()
    worker.wait(timeout=30)
    spec = _spec("silent", 2)
    assert study_status(spec, study, sqlite_url).splitlines()[2] == "workers seen in the last 5 minutes: 1"
    time.sleep(2.5)
    lines = study_status(spec, study, sqlite_url).splitlines()
    assert lines[2] == "workers seen in the last 5 minutes: 1 (1 dead)"
    assert re.fullmatch(
        rf"  worker 0  \S+  pid {killed['pid']}  gpu -  dead: no sign of life since [-0-9: ]+ \(\ds ago; grace "
        r"period 2s\), while running trial 0",
        lines[3],
    ), lines[3]
