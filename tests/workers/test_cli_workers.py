"""Parallel workers through the real CLI: Keras trials, GPU assignment, SIGTERM, create/worker/status."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from gapsearch.workers.registry import workers_seen
from tests.conftest import ROOT, TINY_STUDY, cli_env, gapsearch, start_run, wait_until_training

FAST_HEARTBEAT = "workers: {heartbeat_interval: 1, grace_period: 2}\n"


def load(folder: Path, name: str = "tiny") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'gapsearch.db'}")


@pytest.mark.slow
def test_four_workers_on_two_gpus_see_one_gpu_each(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trials: 4"))
    result = gapsearch(
        "run", "tiny.yaml", "--gpus", "0,1", "--trials-per-gpu", "2", "--no-progress", cwd=tmp_path, check=True
    )
    study = load(tmp_path)
    workers = sorted((w.placement for w in workers_seen(study)), key=lambda w: int(w.worker_id or 0))
    assert [w.cuda_visible_devices for w in workers] == ["0", "0", "1", "1"]
    assert [w.worker_id for w in workers] == ["0", "1", "2", "3"]
    assert len({w.pid for w in workers}) == 4
    by_pid = {w.pid: w for w in workers}
    trials = study.get_trials(deepcopy=False)
    assert [t.state.name for t in trials].count("COMPLETE") == 4
    for trial in trials:
        if trial.state.name == "COMPLETE":
            attrs = trial.user_attrs
            worker = by_pid[attrs["pid"]]
            assert (attrs["worker_id"], attrs["cuda_visible_devices"], attrs["hostname"]) == (
                worker.worker_id,
                worker.cuda_visible_devices,
                worker.hostname,
            )
    lines = result.stdout.splitlines()
    assert sorted(int(line.split()[1]) for line in lines if line.startswith("trial ")) == [
        t.number for t in trials if t.state.name == "COMPLETE"
    ]
    assert "study tiny: 4/4 finished trials in sqlite:///gapsearch.db" in lines
    status = gapsearch("status", "tiny.yaml", cwd=tmp_path, check=True).stdout.splitlines()
    assert status[0] == "study tiny in sqlite:///gapsearch.db: 4/4 finished trials"
    assert status[2] == "workers seen in the last 5 minutes: 4"
    assert sorted(line.split("gpu ")[1].split()[0] for line in status[3:7]) == ["0", "0", "1", "1"]
    assert status[-1] == "stale trials (no heartbeat for more than 30s): none"


@pytest.mark.slow
def test_sigterm_stops_a_parallel_run_cleanly_and_a_worker_finishes_the_study(tmp_path):
    # Trials of seconds (40 epochs); the signal goes once a running trial has reported an epoch.
    study_text = TINY_STUDY.replace("epochs: 2", "epochs: 40") + FAST_HEARTBEAT
    (tmp_path / "tiny.yaml").write_text(study_text)
    process, _ = start_run("tiny.yaml", "--workers", "2", cwd=tmp_path)  # a trial has finished: both workers run
    wait_until_training(tmp_path / "gapsearch.db")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, err
    assert elapsed < 10, elapsed
    assert "Traceback" not in err
    trials = load(tmp_path).get_trials(deepcopy=False)
    states = [t.state.name for t in trials]
    finished = states.count("COMPLETE") + states.count("PRUNED")
    assert "RUNNING" not in states
    stopped = [t for t in trials if t.user_attrs.get("fail_reason") == "the worker was stopped by SIGTERM"]
    assert stopped and all(t.state.name == "FAIL" for t in stopped)
    running = (
        "the running trial was recorded as FAIL and queued again"
        if len(stopped) == 1
        else f"{len(stopped)} running trials were recorded as FAIL and queued again"
    )
    assert err.splitlines() == [
        f"stopped by SIGTERM at {finished}/3 finished trials; {running}, and a rerun continues the study"
    ]
    waiting = [t for t in trials if t.state.name == "WAITING"]  # trials come ordered by number
    queued = {t.system_attrs.get("failed_trial"): t for t in waiting}
    for trial in stopped:
        assert queued[trial.number].params == trial.params
    # A worker joins the existing study and finishes it, running the queued trials first, in the order of
    # their numbers, as many as the budget still needs (two trials may have finished before the signal), and
    # new trials only once none is left. Queued are the stopped trials' retries and any trial a worker put
    # back unrun after another worker took the last slot of the budget first.
    joined = gapsearch("worker", "tiny.yaml", "--no-progress", cwd=tmp_path, check=True)
    after = load(tmp_path).get_trials(deepcopy=False)
    assert [t.state.name for t in after].count("COMPLETE") == 3 and "RUNNING" not in [t.state.name for t in after]
    needed = 3 - finished
    seen = [(t.number, t.state.name, t.system_attrs.get("failed_trial")) for t in after]
    assert len(after) == len(trials) + max(0, needed - len(waiting)), (finished, seen)
    taken = min(needed, len(waiting))
    expected = ["COMPLETE"] * taken + ["WAITING"] * (len(waiting) - taken)
    assert [after[t.number].state.name for t in waiting] == expected, seen
    retries = [after[queued[trial.number].number] for trial in stopped]
    assert [t.params for t in retries] == [t.params for t in stopped]
    assert "study tiny: 3/3 finished trials in sqlite:///gapsearch.db" in joined.stdout


def test_a_worker_needs_a_created_study_and_create_makes_it(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY + FAST_HEARTBEAT)
    optuna.create_study(study_name="other", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    missing = gapsearch("worker", "tiny.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "error: no study 'tiny' in sqlite:///gapsearch.db; create it first with `gapsearch create tiny.yaml` "
        "(or `gapsearch run`)"
    ]
    created = gapsearch("create", "tiny.yaml", cwd=tmp_path, check=True)
    assert created.stdout.strip() == (
        "created study tiny in sqlite:///gapsearch.db; start workers with `gapsearch worker tiny.yaml`"
    )
    again = gapsearch("create", "tiny.yaml", cwd=tmp_path, check=True)
    assert again.stdout.strip() == (
        "study tiny already exists in sqlite:///gapsearch.db with 0 finished trials; nothing to do"
    )
    study = load(tmp_path)
    assert study.user_attrs["class_names"] == ["class_0", "class_1"]
    # A trial whose worker died: a heartbeat, then silence longer than the grace period.
    storage = study._storage
    trial = study.ask()
    trial.set_user_attr("hostname", "gone-host")
    trial.set_user_attr("pid", 4242)
    storage.record_heartbeat(trial._trial_id)
    time.sleep(3)
    status = gapsearch("status", "tiny.yaml", cwd=tmp_path, check=True).stdout.splitlines()
    assert status == [
        "study tiny in sqlite:///gapsearch.db: 0/3 finished trials",
        "trials: COMPLETE 0  PRUNED 0  FAIL 0  RUNNING 1  WAITING 0",
        "workers seen in the last 5 minutes: 0",
        "stale trials (no heartbeat for more than 2s): 1",
        "  trial 0  gone-host  pid 4242  (failed and queued again when a worker next starts a trial)",
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--gpus", "0,x"),
            "error: --gpus: '0,x' is not 'all', 'none' or a comma-separated list of GPU numbers such as '0,2,3'",
        ),
        (
            ("--workers", "5", "--gpus", "0,1", "--trials-per-gpu", "2"),
            "error: 5 workers do not fit on 2 GPUs (0,1) with trials_per_gpu 2 (at most 4); "
            "use --trials-per-gpu 3, fewer workers, or --gpus none",
        ),
    ],
)
def test_bad_worker_options_give_one_line_and_write_nothing(tmp_path, args, expected):
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    result = gapsearch("run", "tiny.yaml", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [expected]
    assert not (tmp_path / "gapsearch.db").exists()


def test_create_and_status_never_import_tensorflow(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    probe = (
        "import sys; from gapsearch.cli import main\n"
        "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules))\n"
    )
    for args in (["create", "tiny.yaml"], ["status", "tiny.yaml"], ["worker", "--help"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=tmp_path, capture_output=True, text=True, env=cli_env()
        )
        assert result.stdout.strip().endswith("HEAVY []"), (args, result.stdout[-300:], result.stderr[-500:])


FAULTS = Path(__file__).parent / "faults"  # a sitecustomize that injects faults into real trials


def fault_env(fault: str) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join((str(FAULTS), str(ROOT))), "GAPSEARCH_TEST_FAULT": fault}


@pytest.mark.slow
def test_a_sigkilled_worker_of_run_is_replaced_the_study_meets_its_budget_and_status_says_how_it_died(tmp_path):
    study_text = TINY_STUDY.replace("epochs: 2", "epochs: 60").replace("n_trials: 3", "n_trials: 4") + FAST_HEARTBEAT
    (tmp_path / "tiny.yaml").write_text(study_text)
    process, _ = start_run("tiny.yaml", "--workers", "2", cwd=tmp_path)  # a trial has finished: both workers run
    wait_until_training(tmp_path / "gapsearch.db")
    # A victim early in its 60 epochs, so that it is still training when the signal lands (on a loaded machine
    # a trial seen near its end can finish first, and its worker then holds no trial).
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        running = [t for t in load(tmp_path).get_trials(deepcopy=False) if t.state.name == "RUNNING"]
        victim = next((t for t in running if 1 <= len(t.intermediate_values) <= 20), None)
        time.sleep(0.05)
    assert victim is not None, "no trial was seen early in its training"
    os.kill(victim.user_attrs["pid"], signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    worker, pid = victim.user_attrs["worker_id"], victim.user_attrs["pid"]
    lines = err.splitlines()
    assert (
        f"worker {worker} (pid {pid}) was killed by SIGKILL while running trial {victim.number}; recorded as FAIL "
        "and queued again with its parameters"
    ) in lines, err
    restarted = [line for line in lines if " started again as pid " in line]
    assert len(restarted) == 1 and restarted[0].startswith(f"worker {worker} started again as pid "), err
    assert "study tiny: 4/4 finished trials in sqlite:///gapsearch.db" in out
    status = gapsearch("status", "tiny.yaml", cwd=tmp_path, check=True).stdout
    assert f"pid {pid}  gpu -  dead: killed by SIGKILL at " in status, status


@pytest.mark.slow
def test_a_run_whose_trial_segfaults_says_so_in_one_line_and_quarantines_it_the_second_time(tmp_path):
    # One worker: `run` trains in a child it watches, which a crash takes down instead of the command.
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY + FAST_HEARTBEAT)
    env = fault_env("segfault-trial:1")
    first = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env=env)
    trials = load(tmp_path).get_trials(deepcopy=False)
    pid = trials[1].user_attrs["pid"]
    assert (first.returncode, first.stderr.splitlines()) == (
        1,
        [
            f"error: worker 0 (pid {pid}) was killed by SIGSEGV while running trial 1; recorded as FAIL and queued "
            "again with its parameters; a rerun continues the study"
        ],
    )
    assert [(t.state.name, t.user_attrs.get("killed_by_signal")) for t in trials] == [
        ("COMPLETE", None),
        ("FAIL", "SIGSEGV"),
        ("WAITING", None),
    ]
    second = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env=env)
    trials = load(tmp_path).get_trials(deepcopy=False)
    pid = trials[2].user_attrs["pid"]
    assert (second.returncode, second.stderr.splitlines()) == (
        1,
        [
            f"error: worker 0 (pid {pid}) was killed by SIGSEGV while running trial 2; recorded as FAIL and not "
            "queued again (killed its worker twice: SIGSEGV); a rerun continues the study"
        ],
    )
    assert [(t.state.name, t.params == trials[1].params) for t in trials[1:]] == [("FAIL", True), ("FAIL", True)]
    assert trials[2].user_attrs["fail_reason"] == "killed its worker twice: SIGSEGV"


@pytest.mark.slow
def _has_study(database: Path, name: str) -> bool:
    """Whether the run has created study ``name`` in ``database``, read without writing: opening it through
    Optuna would create the tables the run is creating at that moment (seen: 'table trial_values already
    exists')."""
    if not database.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as connection:
            found = connection.execute("SELECT 1 FROM studies WHERE study_name = ?", (name,)).fetchone()
    except sqlite3.Error:  # no tables yet, or the run holds the write lock
        return False
    return found is not None


def test_a_stop_raised_inside_fit_as_another_error_is_recorded_as_the_stop_and_keeps_the_checkpoint(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY.replace("epochs: 2", "epochs: 40") + FAST_HEARTBEAT)
    process = subprocess.Popen(
        [sys.executable, "-m", "gapsearch", "run", "tiny.yaml", "--no-progress"],
        cwd=tmp_path,
        env=cli_env(fault_env("stop-as-error")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    database, deadline = tmp_path / "gapsearch.db", time.monotonic() + 120
    while not _has_study(database, "tiny"):
        assert time.monotonic() < deadline, "the run created no study"
        time.sleep(0.2)
    wait_until_training(database, timeout=120)
    # A reported epoch comes before its checkpoint is written (in the background): the signal waits for one, as
    # the test is about keeping it. A finished trial's folder is removed, so the one found is the running trial's.
    checkpoints = tmp_path / ".gapsearch-checkpoints" / "tiny"
    while not list(checkpoints.glob("trial-*/current/state.json")):
        assert time.monotonic() < deadline + 120, "the running trial wrote no checkpoint"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    trials = load(tmp_path).get_trials(deepcopy=False)
    (stopped,) = [t for t in trials if t.state.name == "FAIL"]
    assert stopped.user_attrs["fail_reason"] == "the worker was stopped by SIGTERM"
    assert "fail_traceback" not in stopped.user_attrs  # no failure of the trial's own was written
    finished = sum(t.state.name == "COMPLETE" for t in trials)
    assert err.splitlines() == [
        f"stopped by SIGTERM at {finished}/3 finished trials; the running trial was recorded as FAIL and queued "
        "again, and a rerun continues the study"
    ]
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == stopped.number]
    assert (retry.state.name, retry.params) == ("WAITING", stopped.params)
    # Kept for the retry to resume from, as a stop that came out as itself keeps it.
    assert (tmp_path / ".gapsearch-checkpoints" / "tiny" / f"trial-{stopped.number}" / "current").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_workers_are_recycled_every_k_trials_through_run_with_one_worker_or_a_pool(tmp_path, workers):
    """workers.recycle_after holds for `run` with one worker (the child it watches) as for a pool's workers."""
    text = TINY_STUDY.replace("n_trials: 3", "n_trials: 5").split("search_space:")[0]
    text += "search_space: {embedding_dim: {low: 2, high: 500}}\nworkers: {recycle_after: 2}\n"
    (tmp_path / "tiny.yaml").write_text(text)
    result = gapsearch("run", "tiny.yaml", "--workers", str(workers), "--no-progress", cwd=tmp_path, check=True)
    trials = load(tmp_path).get_trials(deepcopy=False)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 5
    per_process: dict[int, int] = {}
    for trial in trials:
        per_process[trial.user_attrs["pid"]] = per_process.get(trial.user_attrs["pid"], 0) + 1
    assert max(per_process.values()) <= 2 and len(per_process) >= 3  # no process ran more than K trials
    # A fresh process samples with a seed of its own: with the study's seed it would draw trial 0's value again.
    assert len({t.params["embedding_dim"] for t in trials}) == 5, [t.params for t in trials]
    lines = result.stdout.splitlines()
    assert sum(line.startswith("data: ") for line in lines) == 1, result.stdout  # said once, not per process
    assert "study tiny: 5/5 finished trials in sqlite:///gapsearch.db" in lines, result.stdout
    assert sum(line.startswith("study tiny: ") for line in lines) == 1, result.stdout
    assert result.stderr.strip() == "", result.stderr  # recycling is no death: nothing to report


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_warning_inside_a_trial_is_printed_whole_on_one_line(tmp_path, workers):
    """A Python warning is one line on stderr: category, the whole message, where, its password masked; from `run`'s
    own child and from a pool's worker (whose lines `run` prefixes one by one) alike."""
    from tests.workers.faults import sitecustomize

    (tmp_path / "tiny.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trials: 2"))
    env = fault_env("warn-in-trial")
    result = gapsearch("run", "tiny.yaml", "--workers", str(workers), "--no-progress", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    message = " ".join(sitecustomize.WARNING.split()).replace("alice:hunter22@", "alice:***@")
    where = f"(at {Path(sitecustomize.__file__)}:"
    lines = [line.split(": ", 1)[1] if line.startswith("worker ") else line for line in result.stderr.splitlines()]
    shown = [line for line in lines if line.startswith("warning: ")]
    assert shown and all(line.startswith(f"warning: FutureWarning: {message} {where}") for line in shown), result.stderr
    assert all(
        line.endswith(")") and line.removeprefix(f"warning: FutureWarning: {message} {where}")[:-1].isdigit()
        for line in shown
    )
    assert len(shown) == len(lines), result.stderr  # nothing else: no source line, no second line
    assert "hunter22" not in result.stderr
