"""A study whose trials were mostly pruned, run for real with the default pruner, as ``best``, ``trials`` and
``report`` read it: how many were pruned and at which epoch, checked against what Optuna stored."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gapsearch.results.report import collect
from gapsearch.spec import load_study
from tests.conftest import TINY_STUDY, cli
from tests.test_report import cell_rows, cells_of, importances_at

#: The tiny study with successive halving from epoch 1 (gapsearch's default before the replays) and four
#: classes, so that the first epoch's accuracies differ (ties are promoted) and most trials stop there.
MOSTLY_PRUNED = (
    TINY_STUDY.replace(
        "pruner: {type: none}\n", "pruner: {type: successive_halving, min_resource: 1, reduction_factor: 3}\n"
    )
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
    cli("run", "tiny.yaml", "--no-progress", cwd=folder, check=True)
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
    best = cli("best", "tiny.yaml", cwd=folder, check=True).stdout.splitlines()
    assert best[0].startswith(f"best trial: {study.best_trial.number}  val_accuracy=")
    assert best[-2:] == [pruned_line(study), HINT]
    table = cli("trials", "tiny.yaml", cwd=folder, check=True).stdout.splitlines()
    assert len(table) == 1 + len(study.trials) + 2 and table[-2:] == [pruned_line(study), HINT]
    rows = json.loads(cli("trials", "tiny.yaml", "--format", "json", cwd=folder, check=True).stdout)
    assert [(r["number"], r["state"]) for r in rows] == [(t.number, t.state.name) for t in study.trials]
    assert [r["epochs_run"] for r in rows if r["state"] == "PRUNED"] == [
        max(t.intermediate_values) for t in study.trials if t.state == TrialState.PRUNED
    ]


def test_the_report_states_the_pruning_and_compares_more_than_one_trial(pruned, tmp_path):
    folder, study = pruned
    cli("report", "tiny.yaml", "-o", str(tmp_path / "report"), cwd=folder, check=True)
    page = (tmp_path / "report" / "report.html").read_text()
    answer = page.split('id="headline"')[1].split("</section>")[0]
    assert "only one combination was tried" not in page
    assert f"To compare pooling fairly: {HINT.split(': ')[1]}." in answer
    completed = study.get_trials(states=(TrialState.COMPLETE,))
    pruned_trials = study.get_trials(states=(TrialState.PRUNED,))
    where = pruned_line(study).split(" pruned ")[1]
    if len({(t.params["pooling"], t.params["embedding_dim"]) for t in completed}) >= 2:
        basis = {t.number: t.value for t in completed}
        assert (
            f"{len(pruned_trials)} of {len(study.trials)} trials were pruned {where}; the means here are over the "
            f"{len(completed)} completed trials only." in answer
        )
    else:  # the rule of results.pruned.common_epoch: the last step every completed and pruned trial reported
        step = min(max(t.intermediate_values) for t in completed + pruned_trials)
        basis = {t.number: t.intermediate_values[step] for t in completed + pruned_trials}
        assert f"more were tried and pruned {where}." in answer
    assert len(basis) >= 2 and cell_rows(page) == cells_of(study.trials, basis)
    results = collect(study, load_study(folder / "tiny.yaml"), explanations=False)
    assert 'id="importances"' in page
    assert results.importances == pytest.approx(importances_at(study, basis))  # over the same trials and values
