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
