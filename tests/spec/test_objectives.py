"""Objectives, constraints and repeats in the study file: the two forms, their checks and their messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapsearch.errors import StudyFileError
from gapsearch.spec import load_study
from gapsearch.spec.metrics import COSTS, METRIC_DIRECTIONS

BASE = """\
name: s
n_trials: 2
data: {format: synthetic, n_examples: 200}
search_space:
  embedding_dim: [8, 16]
"""
TWO = "objectives:\n  - {metric: val_accuracy, direction: maximize}\n  - {metric: params, direction: minimize}\n"


def load(tmp_path: Path, text: str):
    path = tmp_path / "study.yaml"
    path.write_text(BASE + text)
    return load_study(path)


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(StudyFileError) as caught:
        load(tmp_path, text)
    prefix = f"{tmp_path / 'study.yaml'}: "
    assert all(line.startswith(prefix) for line in caught.value.errors)
    return [line.removeprefix(prefix) for line in caught.value.errors]


def test_the_single_metric_form_is_one_objective(tmp_path):
    spec = load(tmp_path, "metric: val_loss\ndirection: minimize\n")
    assert spec.objective_names == ["val_loss"] and spec.directions == ["minimize"]
    assert not spec.is_multi_objective and spec.monitored.metric == "val_loss"
    assert spec.pruner.type == "successive_halving" and spec.repeats == 1 and spec.constraints == {}


def test_several_objectives_default_to_no_pruner_and_monitor_the_first_training_metric(tmp_path):
    spec = load(
        tmp_path,
        "objectives:\n  - {metric: latency_ms, direction: minimize}\n  - {metric: val_loss, direction: minimize}\n"
        "  - {metric: val_accuracy, direction: maximize}\n",
    )
    assert spec.objective_names == ["latency_ms", "val_loss", "val_accuracy"]
    assert spec.directions == ["minimize", "minimize", "maximize"]
    assert spec.is_multi_objective and spec.pruner.type == "none"
    assert spec.monitored.metric == "val_loss"  # early stopping follows it
    assert spec.measured_metrics == {"val_loss", "val_accuracy"}


def test_costs_share_the_metric_table():
    assert set(COSTS) == {"params", "embedding_params", "flops", "train_seconds", "latency_ms"}
    assert all(METRIC_DIRECTIONS[cost] == "minimize" for cost in COSTS)
    assert METRIC_DIRECTIONS["val_accuracy"] == "maximize"


def test_a_pruner_with_two_objectives_is_one_line(tmp_path):
    assert errors(tmp_path, TWO + "pruner: {type: median}\n") == [
        "pruner.type: 'median' cannot prune a study with 2 objectives (Optuna prunes one objective only); "
        "remove pruner or use {type: none}; early stopping still applies"
    ]
    assert load(tmp_path, TWO + "pruner: {type: none}\n").pruner.type == "none"


def test_exactly_one_of_the_two_forms(tmp_path):
    assert errors(tmp_path, "metric: val_accuracy\ndirection: maximize\n" + TWO) == [
        "objectives: give either objectives or metric and direction, not both (remove metric and direction)"
    ]
    assert errors(tmp_path, "") == [
        "metric: required key missing; give metric and direction, or objectives: [{metric, direction}, ...]"
    ]
    assert errors(tmp_path, "metric: val_accuracy\n") == ["direction: required key missing"]
    assert errors(tmp_path, "direction: maximize\n") == ["metric: required key missing"]


def test_objective_names_directions_and_training_metric(tmp_path):
    bad = (
        "objectives:\n  - {metric: val_acuracy, direction: maximize}\n  - {metric: params, direction: maximize}\n"
        "  - {metric: params, direction: minimize}\n"
    )
    assert errors(tmp_path, bad) == [
        "objectives[0].metric: 'val_acuracy' is not a measured quantity; did you mean 'val_accuracy'?",
        "objectives[1].direction: 'maximize' with metric 'params' would pick the worst trials; expected 'minimize'",
        "objectives: names 'params' more than once",
    ]
    costs_only = "objectives:\n  - {metric: params, direction: minimize}\n  - {metric: flops, direction: minimize}\n"
    (problem,) = errors(tmp_path, costs_only)
    assert problem.startswith("objectives: needs a training metric ('val_accuracy', 'val_auc', ")
    assert problem.endswith(" besides the costs, to train and stop early by")
    assert errors(tmp_path, "objectives: []\n") == ["objectives: needs at least 1 item(s), but got []"]


def test_cmaes_cannot_optimize_several_objectives(tmp_path):
    # (a second line asks for the cmaes package where it is not installed)
    assert errors(tmp_path, TWO + "sampler: {type: cmaes}\n")[0] == (
        "sampler.type: 'cmaes' optimizes one objective, not 2; use 'tpe', 'nsga2' or 'gp'"
    )


def test_nsga2_sampler_settings(tmp_path):
    spec = load(tmp_path, TWO + "sampler: {type: nsga2, population_size: 8, seed: 4}\n")
    assert spec.sampler.type == "nsga2" and spec.sampler.population_size == 8 and spec.sampler_seed == 4
    assert errors(tmp_path, TWO + "sampler: {type: nsga2, population_size: 1}\n") == [
        "sampler.population_size: must be >= 2, but got 1"
    ]


def test_constraints_and_repeats(tmp_path):
    spec = load(tmp_path, TWO + "repeats: 3\nconstraints: {params: {max: 2.0e6}, val_accuracy: {min: 0.5}}\n")
    assert spec.repeats == 3
    assert spec.constraints["params"].max == 2.0e6 and spec.constraints["params"].violations(2.5e6) == [0.5e6]
    assert spec.constraints["val_accuracy"].violations(0.75) == [-0.25]
    assert errors(tmp_path, TWO + "constraints: {parms: {max: 10}}\n") == [
        "constraints.parms: not a measured quantity; did you mean 'params'?"
    ]
    assert errors(tmp_path, TWO + "constraints: {params: {}}\n") == [
        "constraints.params: a constraint needs max, min or both, for example {max: 2.0e6}"
    ]
    assert errors(tmp_path, TWO + "constraints: {params: {min: 5, max: 1}}\n") == [
        "constraints.params: min <= max must hold, but got (min=5, max=1)"
    ]
    assert errors(tmp_path, TWO + "constraints: {params: {maximum: 5}}\n") == [
        "constraints.params.maximum: unknown key; did you mean 'max'?"
    ]
    assert errors(tmp_path, TWO + "repeats: 0\n") == ["repeats: must be >= 1, but got 0"]


def test_a_trial_compiles_the_metrics_the_study_measures_and_no_other(tmp_path):
    assert load(tmp_path, "metric: val_accuracy\ndirection: maximize\n").compiled_metrics == {"accuracy"}
    assert load(tmp_path, "metric: val_loss\ndirection: minimize\n").compiled_metrics == set()
    spec = load(tmp_path, TWO + "constraints: {val_auc: {min: 0.6}, val_loss: {max: 0.7}}\n")
    assert spec.compiled_metrics == {"accuracy", "auc"}  # params is a cost, measured without Keras metrics
