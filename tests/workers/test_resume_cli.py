"""A worker SIGKILLed mid-trial, through the real CLI on PostgreSQL: the retry resumes from the checkpoint.

The study's values must equal those of the same study run without a kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from gapsearch.search.artifacts import model_artifacts
from tests.conftest import TINY_STUDY, cli_env, gapsearch

# Six epochs on enough data that an epoch takes a noticeable moment, so the kill lands at epoch 3.
STUDY = (
    TINY_STUDY.replace("epochs: 2", "epochs: 6")
    .replace("n_trials: 3", "n_trials: 2")
    .replace("n_examples: 240", "n_examples: 3000")
    .replace("patience: 0", "patience: 4")
    + "workers: {heartbeat_interval: 1, grace_period: 2}\n"
)


def write_study(folder: Path, storage: str) -> None:
    folder.mkdir()
    (folder / "tiny.yaml").write_text(STUDY + f"storage: {storage}\n")


def saved_epoch(state: Path) -> int:
    try:
        return json.loads(state.read_text())["epoch"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_killed_at_epoch_3_of_6_is_resumed_for_epochs_4_to_6_with_the_same_values(tmp_path, postgres_url):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    write_study(straight, f"sqlite:///{straight / 'gapsearch.db'}")
    write_study(killed, postgres_url)
    gapsearch("run", "tiny.yaml", "--no-progress", cwd=straight, check=True)

    process = subprocess.Popen(
        [sys.executable, "-m", "gapsearch", "run", "tiny.yaml", "--no-progress"],
        cwd=killed,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = killed / ".gapsearch-checkpoints" / "tiny" / "trial-1" / "current" / "state.json"
    deadline = time.monotonic() + 300
    while saved_epoch(state) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert saved_epoch(state) == 3, "the kill landed after epoch 3's checkpoint and before epoch 4's"

    time.sleep(3)  # past the grace period: the next run takes the trial's worker for dead
    gapsearch("run", "tiny.yaml", "--no-progress", cwd=killed, check=True)

    study = optuna.load_study(study_name="tiny", storage=postgres_url)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert [trials[n].state.name for n in sorted(trials)] == ["COMPLETE", "FAIL", "COMPLETE"]
    dead, retry = trials[1], trials[2]
    assert retry.system_attrs["failed_trial"] == 1 and retry.params == dead.params
    assert retry.user_attrs["resumed_from_epoch"] == 3 and retry.user_attrs["epochs_run"] == 6
    assert sorted(retry.intermediate_values) == [1, 2, 3, 4, 5, 6]  # epochs 1-3 restored, 4-6 trained
    assert retry.user_attrs["seed"] == trials[1].user_attrs["seed"]
    assert not any((killed / ".gapsearch-checkpoints" / "tiny").iterdir()), "the finished trial's checkpoint is gone"

    reference = optuna.load_study(study_name="tiny", storage=f"sqlite:///{straight / 'gapsearch.db'}")
    uninterrupted = [t for t in reference.get_trials(deepcopy=False)]
    assert [t.state.name for t in uninterrupted] == ["COMPLETE", "COMPLETE"]
    assert [t.params for t in uninterrupted] == [trials[0].params, retry.params]
    assert [t.value for t in uninterrupted] == [trials[0].value, retry.value]
    assert uninterrupted[1].intermediate_values == retry.intermediate_values


def test_a_stopped_trial_with_repeats_resumes_its_second_run_and_keeps_the_first(tmp_path):
    study = (
        TINY_STUDY.replace("epochs: 2", "epochs: 4")
        .replace("n_trials: 3", "n_trials: 1")
        .replace("n_examples: 240", "n_examples: 2000")
        + "repeats: 2\n"
    )
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    for folder in (straight, stopped):
        folder.mkdir()
        (folder / "tiny.yaml").write_text(study)
    gapsearch("run", "tiny.yaml", "--no-progress", cwd=straight, check=True)

    process = subprocess.Popen(
        [sys.executable, "-m", "gapsearch", "run", "tiny.yaml", "--no-progress"],
        cwd=stopped,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = stopped / ".gapsearch-checkpoints" / "tiny" / "trial-0" / "current" / "state.json"

    def position() -> tuple[int, int]:
        try:
            saved = json.loads(state.read_text())
            return saved["extra"]["run"], saved["epoch"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return 0, 0

    deadline = time.monotonic() + 300
    while position() < (1, 2) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    run, epoch = position()
    assert run == 1 and epoch >= 2, (run, epoch)

    gapsearch("run", "tiny.yaml", "--no-progress", cwd=stopped, check=True)
    resumed_study = optuna.load_study(study_name="tiny", storage="sqlite:///" + str(stopped / "gapsearch.db"))
    trials = resumed_study.trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    # The first run's model, rebuilt from the weights the checkpoint kept, is the trial's model artifact.
    assert len(model_artifacts(resumed_study, trials[1])) == 1
    retry = trials[1]
    assert retry.user_attrs["resumed_run"] == "validation/repeat2" and retry.user_attrs["resumed_from_epoch"] == epoch
    reference = optuna.load_study(study_name="tiny", storage="sqlite:///" + str(straight / "gapsearch.db")).trials[0]
    assert retry.params == reference.params and retry.value == reference.value
    assert retry.user_attrs["run_values"] == reference.user_attrs["run_values"]
    assert retry.user_attrs["history"] == reference.user_attrs["history"]  # the first run's, from the checkpoint
    assert not any((stopped / ".gapsearch-checkpoints" / "tiny").iterdir())
