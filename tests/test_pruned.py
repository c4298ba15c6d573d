"""A study whose trials were mostly pruned, run for real with the default pruner, as ``best`` and ``trials``
read it: how many were pruned and at which epoch, checked against what Optuna stored."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.conftest import TINY_STUDY, gapsearch

#: The tiny study with the default pruner (successive halving from epoch 1) and four classes, so that the
#: first epoch's accuracies differ (ties are promoted) and most trials stop there.
MOSTLY_PRUNED = (
    TINY_STUDY.replace("pruner: {type: none}\n", "")
    .replace("n_trials: 3", "n_trials: 13")
    .replace("n_examples: 240,", "n_examples: 600, n_classes: 4,")
    .replace("batch_size: 32", "batch_size: 16")
)
HINT = "to compare pooling fairly: gapsearch compare tiny.yaml --param pooling --seeds 3"


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, optuna.Study]:
    """The study run by the real CLI: its folder and the study as Optuna reads it."""
    folder = tmp_path_factory.mktemp("mostly-pruned")
    (folder / "tiny.yaml").write_text(MOSTLY_PRUNED)
    gapsearch("run", "tiny.yaml", "--no-progress", cwd=folder, check=True)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    states = Counter(trial.state.name for trial in study.trials)
    assert states["PRUNED"] > states["COMPLETE"] > 0, states  # what this module is about
    return folder, study


def pruned_line(study: optuna.Study) -> str:
    """The reference: counts by state, and each pruned trial's epoch from the last step Optuna holds for it
    (one run of two epochs, so a step is an epoch)."""
    trials = study.trials
    stops = Counter(max(t.intermediate_values) for t in trials if t.state == TrialState.PRUNED)
    where = ", ".join(f"epoch {epoch}" + (f" ({n})" if len(stops) > 1 else "") for epoch, n in sorted(stops.items()))
    completed = sum(t.state == TrialState.COMPLETE for t in trials)
    return f"{len(trials)} trials: {completed} completed, {sum(stops.values())} pruned at {where}"


def test_best_and_trials_say_how_many_trials_were_pruned_and_at_which_epoch(pruned):
    folder, study = pruned
    best = gapsearch("best", "tiny.yaml", cwd=folder, check=True).stdout.splitlines()
    assert best[0].startswith(f"best trial: {study.best_trial.number}  val_accuracy=")
    assert best[-2:] == [pruned_line(study), HINT]
    table = gapsearch("trials", "tiny.yaml", cwd=folder, check=True).stdout.splitlines()
    assert len(table) == 1 + len(study.trials) + 2 and table[-2:] == [pruned_line(study), HINT]
    rows = json.loads(gapsearch("trials", "tiny.yaml", "--format", "json", cwd=folder, check=True).stdout)
    assert [(r["number"], r["state"]) for r in rows] == [(t.number, t.state.name) for t in study.trials]
    assert [r["epochs_run"] for r in rows if r["state"] == "PRUNED"] == [
        max(t.intermediate_values) for t in study.trials if t.state == TrialState.PRUNED
    ]
