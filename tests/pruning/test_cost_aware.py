"""The cost-aware pruner in a real two-objective study on SQLite, read back with Optuna's API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from gapsearch.search.pruning import INTERMEDIATE_VALUES_KEY, best_so_far, curve_of
from gapsearch.trial_attrs import ModelCosts
from tests.conftest import cli

# Two widths of embedding, each at a learning rate that learns and one that barely moves: at either width
# the slow trial is beaten by a trial that costs no more, so it can never reach the front.
STUDY = """\
name: {name}
objectives:
  - {{metric: val_accuracy, direction: maximize}}
  - {{metric: params, direction: minimize}}
n_trials: 4
seed: 1
sampler: {{type: random}}
pruner: {pruner}
data: {{format: synthetic, n_examples: 400, n_classes: 4, min_length: 4, max_length: 30}}
model: {{max_tokens: 200, sequence_length: 30, encoder: none, epochs: 3, patience: 0, batch_size: 32}}
search_space:
  embedding_dim: [2, 16]
  learning_rate: [1.0e-2, 1.0e-6]
"""
PRUNER = "{type: cost_aware, percentile: 50, n_startup_trials: 2, n_warmup_steps: 1, n_min_peers: 1}"
# Learning ones first, so that each slow trial has peers when it trains.
ORDER = [(2, 1.0e-2), (16, 1.0e-2), (16, 1.0e-6), (2, 1.0e-6)]


def run_in_order(folder: Path, name: str, pruner: str) -> optuna.Study:
    (folder / f"{name}.yaml").write_text(STUDY.format(name=name, pruner=pruner))
    cli("create", f"{name}.yaml", cwd=folder, check=True)
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'gapsearch.db'}")
    for dim, rate in ORDER:  # Optuna's own queue, as a user would fill it
        study.enqueue_trial({"embedding_dim": dim, "learning_rate": rate})
    cli("run", f"{name}.yaml", "--no-progress", cwd=folder, check=True)
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'gapsearch.db'}")


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, optuna.Study, optuna.Study]:
    folder = tmp_path_factory.mktemp("cost-aware")
    return folder, run_in_order(folder, "pruned", PRUNER), run_in_order(folder, "full", "{type: none}")


def test_it_prunes_the_dominated_trials_and_keeps_the_pareto_front(studies):
    _, pruned, full = studies
    states = {(t.params["embedding_dim"], t.params["learning_rate"]): t.state.name for t in pruned.trials}
    assert states == {(2, 1e-2): "COMPLETE", (16, 1e-2): "COMPLETE", (16, 1e-6): "PRUNED", (2, 1e-6): "PRUNED"}
    # The same trials trained to the end (same numbers, so the same seeds) have the same front.
    assert sorted(t.number for t in pruned.best_trials) == sorted(t.number for t in full.best_trials)
    assert [t.values for t in sorted(pruned.best_trials, key=lambda t: t.number)] == [
        t.values for t in sorted(full.best_trials, key=lambda t: t.number)
    ]
    for trial in pruned.trials:
        curve = curve_of(trial)
        assert trial.intermediate_values == {}  # Optuna's own record stays empty in a multi-objective study
        assert list(curve) == list(range(1, trial.user_attrs["epochs_run"] + 1))
        if trial.state.name == "PRUNED":
            assert trial.values is None and trial.user_attrs["epochs_run"] == 2  # the first epoch it could be
            step = trial.user_attrs["epochs_run"]
            mine = best_so_far(curve, step, maximize=True)
            peers = [
                best_so_far(curve_of(p), step, maximize=True)
                for p in pruned.trials
                if p.state.name == "COMPLETE" and ModelCosts.read(p).params <= ModelCosts.read(trial).params
            ]
            assert peers and mine < sorted(peers)[len(peers) // 2]  # below their median
            assert trial.user_attrs["prune_reason"].startswith(f"pruned at step {step}: best val_accuracy ")
        else:
            assert trial.user_attrs["history"]["val_accuracy"] == list(curve.values())
    assert all(INTERMEDIATE_VALUES_KEY not in t.user_attrs for t in full.trials)  # recorded for a pruner only


def test_every_command_that_reads_the_study_handles_the_pruned_trials(studies):
    folder, pruned, _ = studies
    front = sorted(t.number for t in pruned.best_trials)
    best = cli("best", "pruned.yaml", cwd=folder, check=True).stdout.splitlines()
    assert best[0] == f"Pareto-optimal trials: {len(front)} of 2 completed (maximize val_accuracy, minimize params)"
    assert [int(line.split()[0]) for line in best[2 : 2 + len(front)]] == front
    n_pruned = sum(t.state.name == "PRUNED" for t in pruned.trials)
    assert best[2 + len(front)].startswith(f"{len(pruned.trials)} trials: 2 completed, {n_pruned} pruned at epoch")
    rows = json.loads(cli("trials", "pruned.yaml", "--format", "json", cwd=folder, check=True).stdout)
    assert [(r["state"], r["val_accuracy"], r["params"]) for r in rows] == [
        (t.state.name, *(t.values or [None, None])) for t in pruned.trials
    ]
    assert [r["epochs_run"] for r in rows] == [t.user_attrs["epochs_run"] for t in pruned.trials]
    cli("report", "pruned.yaml", "-o", "report", cwd=folder, check=True)
    page = (folder / "report" / "report.html").read_text()
    assert "2 complete, 2 pruned" in page
    number = next(t.number for t in pruned.trials if t.state.name == "PRUNED")
    export = cli("export", "pruned.yaml", "--trial", str(number), "-o", "m.keras", cwd=folder)
    assert export.exit_code == 2 and export.stderr.splitlines() == [
        f"error: --trial: trial {number} of study 'pruned' is PRUNED; only completed trials can be chosen "
        "(gapsearch best lists the best)"
    ]
