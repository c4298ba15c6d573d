"""The cost_aware pruner in the study file: where it is allowed, its settings, and its one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

from gapsearch.search.algorithms import make_multi_objective_pruner, make_pruner
from tests.conftest import cli
from tests.spec.test_objectives import TWO, errors, load


def test_cost_aware_prunes_a_study_with_several_objectives_by_its_costs(tmp_path):
    spec = load(tmp_path, TWO + "pruner: {type: cost_aware, percentile: 25, n_min_peers: 3}\n")
    pruner = make_multi_objective_pruner(spec)
    assert pruner is not None and pruner.costs == ("params",) and pruner.percentile == 25
    assert (pruner.metric, pruner.maximize, pruner.n_startup_trials, pruner.n_min_peers) == ("val_accuracy", True, 5, 3)
    assert type(make_pruner(spec)).__name__ == "NopPruner"  # Optuna's side of the study prunes nothing
    assert make_multi_objective_pruner(load(tmp_path, TWO)) is None  # several objectives still default to none
    three = TWO + "  - {metric: flops, direction: minimize}\n  - {metric: train_seconds, direction: minimize}\n"
    costs = make_multi_objective_pruner(load(tmp_path, three + "pruner: {type: cost_aware}\n")).costs
    assert costs == ("params", "flops")  # train_seconds is known only once a trial has trained


def test_cost_aware_is_refused_in_one_line_where_it_cannot_judge(tmp_path):
    optuna_pruners = "use 'median', 'percentile', 'successive_halving', 'hyperband' or 'wilcoxon'"
    assert errors(tmp_path, "metric: val_accuracy\ndirection: maximize\npruner: {type: cost_aware}\n") == [
        f"pruner.type: 'cost_aware' prunes studies with several objectives, but this one has 1; {optuna_pruners}"
    ]
    one = "objectives:\n  - {metric: val_accuracy, direction: maximize}\npruner: {type: cost_aware}\n"
    assert errors(tmp_path, one) == [
        f"pruner.type: 'cost_aware' prunes studies with several objectives, but this one has 1; {optuna_pruners}"
    ]
    metrics_only = (
        "objectives:\n  - {metric: val_accuracy, direction: maximize}\n"
        "  - {metric: train_seconds, direction: minimize}\npruner: {type: cost_aware}\n"
    )
    assert errors(tmp_path, metrics_only) == [
        "pruner.type: 'cost_aware' compares a trial with trials that cost no more, so an objective must be a cost "
        "known before training (params, embedding_params, flops, latency_ms), but got val_accuracy, train_seconds"
    ]
    assert errors(tmp_path, TWO + "pruner: {type: cost_aware, percentile: 120}\n") == [
        "pruner.percentile: must be <= 100.0, but got 120"
    ]


def test_the_schema_and_validate_show_it(tmp_path: Path):
    schema = json.loads(cli("schema", cwd=tmp_path, check=True).stdout)
    text = json.dumps(schema)
    assert '"cost_aware"' in text and "n_min_peers" in text
    (tmp_path / "study.yaml").write_text(
        "name: s\nn_trials: 2\ndata: {format: synthetic, n_examples: 200}\n"
        + TWO
        + "pruner: {type: cost_aware, percentile: 25}\nsearch_space:\n  embedding_dim: [8, 16]\n"
    )
    shown = cli("validate", "study.yaml", cwd=tmp_path, check=True).stdout
    assert "pruner     cost_aware (percentile=25" in shown
