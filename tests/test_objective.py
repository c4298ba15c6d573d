"""Several objectives, constraints and repeats, run for real on SQLite and read back with Optuna's API."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import optuna
import pytest

from gapsearch.results.console import trial_records
from gapsearch.search.selection import best_trials, trial_seed
from gapsearch.spec import load_study
from gapsearch.stats import summarize
from gapsearch.trial_attrs import ModelCosts
from gapsearch.workers.launch import run_study
from tests.conftest import TINY_STUDY, cli, gapsearch

#: The costs and time every trial stores, each once (latency_ms only when a study names it).
STORED_COSTS = {"params_total", "params_embedding", "flops", "train_seconds"}


def params_of(trial: optuna.trial.FrozenTrial) -> int:
    costs = ModelCosts.read(trial)
    assert costs is not None
    return costs.params


TWO_OBJECTIVES = (
    "objectives:\n  - {metric: val_accuracy, direction: maximize}\n  - {metric: params, direction: minimize}\n"
)
# Four classes and pooling straight over the embedding: a 1-wide embedding cannot separate them all, so
# accuracy grows with the embedding's width and each width is a different trade-off of size and accuracy.
PARETO_STUDY = f"""\
name: pareto
{TWO_OBJECTIVES}n_trials: 4
seed: 1
sampler: {{type: grid}}
data: {{format: synthetic, n_examples: 400, n_classes: 4, min_length: 4, max_length: 30}}
model: {{max_tokens: 200, sequence_length: 30, encoder: none, epochs: 3, patience: 0, batch_size: 32,
        learning_rate: 5.0e-3}}
search_space:
  embedding_dim: [1, 2, 4, 16]
"""


def spec_from(tmp_path: Path, text: str):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return load_study(path)


def test_two_objectives_give_a_pareto_front_of_distinct_sizes(tmp_path):
    (tmp_path / "pareto.yaml").write_text(PARETO_STUDY)
    run = gapsearch("run", "pareto.yaml", "--no-progress", cwd=tmp_path, check=True)
    study = optuna.load_study(study_name="pareto", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.metric_names == ["val_accuracy", "params"]  # what optuna-dashboard labels the axes with
    for trial in study.trials:
        assert trial.state.name == "COMPLETE" and trial.intermediate_values == {}  # nothing to prune by
        # latency_ms is timed only when a study names it (the repeats test below does)
        assert set(trial.user_attrs) >= STORED_COSTS and "latency_ms" not in trial.user_attrs
        assert not {"params", "embedding_params"} & set(trial.user_attrs)  # the old duplicates are not written
        assert trial.values == [max(trial.user_attrs["history"]["val_accuracy"]), params_of(trial)]
    front = study.best_trials
    sizes = {trial.values[1] for trial in front}
    assert len(front) >= 3 and len(sizes) == len(front), [t.values for t in study.trials]
    numbers = sorted(trial.number for trial in front)
    assert f"Pareto front: trials {', '.join(map(str, numbers))} (gapsearch best pareto.yaml shows them)" in run.stdout

    best = cli("best", "pareto.yaml", cwd=tmp_path, check=True).stdout.splitlines()
    assert best[0] == (f"Pareto-optimal trials: {len(front)} of 4 completed (maximize val_accuracy, minimize params)")
    assert best[1].split()[:3] == ["number", "val_accuracy", "params"]
    assert [int(line.split()[0]) for line in best[2:]] == numbers
    rows = json.loads(cli("trials", "pareto.yaml", "--format", "json", cwd=tmp_path, check=True).stdout)
    assert [(r["val_accuracy"], r["params"]) for r in rows] == [tuple(t.values) for t in study.trials]
    # Every command that takes one trial takes the front's best in the monitored metric (gapsearch.search.selection).
    chosen = max(front, key=lambda t: (t.values[0], -t.number))
    evaluate = cli("evaluate", "pareto.yaml", cwd=tmp_path, check=True)
    assert evaluate.stdout.startswith(f"trial {chosen.number}: trained on train (")


def test_a_constraint_marks_oversized_trials_infeasible_and_keeps_them(tmp_path):
    text = (
        TINY_STUDY.split("search_space:")[0].replace("type: random", "type: grid").replace("n_trials: 3", "n_trials: 2")
        + "constraints: {params: {max: 1500}}\nsearch_space:\n  embedding_dim: [2, 32]\n"
    )
    url = f"sqlite:///{tmp_path / 'g.db'}"
    run_study(spec_from(tmp_path, text), storage_url=url)
    study = optuna.load_study(study_name="tiny", storage=url)
    by_dim = {t.params["embedding_dim"]: t for t in study.trials}
    small, large = by_dim[2], by_dim[32]
    assert small.state.name == large.state.name == "COMPLETE"  # infeasible trials are kept
    assert params_of(small) <= 1500 < params_of(large)
    # Optuna's format (what its samplers and optuna-dashboard read): one value per bound, <= 0 when kept.
    assert large.system_attrs["constraints"] == [params_of(large) - 1500]
    assert small.constraints == {"0": params_of(small) - 1500}
    assert study.best_trial.number == small.number and best_trials(study) == [study.best_trial]
    records = {r["number"]: r for r in trial_records(study.trials, ["val_accuracy"])}
    assert (records[small.number]["feasible"], records[large.number]["feasible"]) == ("yes", "no")

    from wsgiref.util import setup_testing_defaults

    from optuna_dashboard import wsgi

    environ = {"PATH_INFO": f"/api/studies/{study._study_id}", "QUERY_STRING": "after=0"}
    setup_testing_defaults(environ)
    answer: list[str] = []
    body = wsgi(url)(environ, lambda status, headers, exc_info=None: answer.append(status))
    assert answer == ["200 OK"]
    shown = {t["number"]: t["constraints"] for t in json.loads(b"".join(body))["trials"]}
    assert shown == {t.number: t.system_attrs["constraints"] for t in study.trials}


def test_repeats_record_each_run_and_the_spread(tmp_path):
    text = (
        TINY_STUDY.split("search_space:")[0].replace("n_trials: 3", "n_trials: 1")
        + "repeats: 3\nsearch_space:\n  pooling: [max]\n"
    ).replace("metric: val_accuracy\ndirection: maximize\n", TWO_OBJECTIVES.replace("params", "latency_ms"))
    text = text.replace("sampler: {type: random}", "sampler: {type: nsga2, population_size: 4}")
    url = f"sqlite:///{tmp_path / 'g.db'}"
    run_study(spec_from(tmp_path, text), storage_url=url)
    (trial,) = optuna.load_study(study_name="tiny", storage=url).trials
    attrs = trial.user_attrs
    names = ["validation/repeat1", "validation/repeat2", "validation/repeat3"]
    assert list(attrs["run_values"]) == names
    runs = attrs["runs"]
    assert [r["name"] for r in runs] == names
    seeds = [r["seed"] for r in runs]
    assert seeds[0] == trial_seed(3, trial.number) == attrs["seed"] and len(set(seeds)) == 3
    values = list(attrs["run_values"].values())
    assert values == [r["values"]["val_accuracy"] for r in runs]
    assert trial.values == [pytest.approx(statistics.fmean(values)), attrs["latency_ms"]]
    assert attrs["value_std"] == pytest.approx(statistics.stdev(values))
    spread = summarize(values)
    assert attrs["value_ci95"] == pytest.approx([spread.low, spread.high])
    assert attrs["train_seconds"] == pytest.approx(statistics.fmean(r["train_seconds"] for r in runs), abs=2e-3)


def test_a_pruner_with_two_objectives_is_rejected_before_anything_runs(tmp_path):
    text = TINY_STUDY.replace("metric: val_accuracy\ndirection: maximize\n", TWO_OBJECTIVES)
    (tmp_path / "study.yaml").write_text(text.replace("pruner: {type: none}", "pruner: {type: hyperband}"))
    result = gapsearch("run", "study.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: study.yaml: pruner.type: 'hyperband' cannot prune a study with 2 objectives "
        "(Optuna prunes one objective only); remove pruner or use {type: none}; early stopping still applies"
    ]
    assert not (tmp_path / "gapsearch.db").exists()


def test_a_pruned_trial_is_judged_by_what_it_measured(tmp_path):
    from gapsearch.search.objective import Objective

    text = TINY_STUDY + "constraints: {params: {max: 1500}, val_loss: {max: 0.5}, val_accuracy: {min: 0.6}}\n"
    objective = Objective(spec_from(tmp_path, text), data=None)  # type: ignore[arg-type]
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'g.db'}")
    trial = study.ask()
    # Pruned at an epoch: the costs are known, the monitored metric has a best value so far, val_loss none.
    objective._constrain(trial, {"params": 2000.0, "val_accuracy": 0.75, "train_seconds": 1.0})
    assert study.trials[0].system_attrs["constraints"] == [500.0, 0.0, pytest.approx(-0.15)]


def test_each_trial_frees_its_models_and_the_study_heap_is_frozen(tmp_path, monkeypatch):
    import gc

    import keras

    from gapsearch.search.objective import Objective
    from gapsearch.search.runner import create_or_load_study, load_data

    monkeypatch.chdir(tmp_path)
    spec = spec_from(tmp_path, TINY_STUDY)
    data = load_data(spec)
    study = create_or_load_study(spec, f"sqlite:///{tmp_path / 'g.db'}", data)
    gc.unfreeze()
    objective = Objective(spec, data)
    assert gc.get_freeze_count() > 0  # the libraries and the data are out of each trial's collection
    try:
        study.optimize(objective, n_trials=3)
        # get_objects() sees what the collector tracks (not the frozen heap), so every model built
        # since the freeze: each trial's model and its exported copy are gone once the trial ends.
        models = [o for o in gc.get_objects() if isinstance(o, keras.Model)]
        assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
        assert models == []
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("compare", ["epoch", "best_so_far"])
def test_the_pruner_is_given_each_epochs_value_or_the_runs_best_so_far(tmp_path, compare):
    import itertools

    import numpy as np

    from gapsearch.trial_attrs import TrainingOutcome

    # A pruner that never prunes (its start-up outlasts the study): what it was given is what Optuna stored.
    text = (
        TINY_STUDY.replace(
            "pruner: {type: none}", f"pruner: {{type: median, n_startup_trials: 50, compare: {compare}}}"
        )
        .replace("epochs: 2", "epochs: 5")
        .replace("batch_size: 32", "batch_size: 8\n  learning_rate: 0.05")  # a validation curve that goes down too
    )
    (tmp_path / "tiny.yaml").write_text(text)
    cli("run", "tiny.yaml", "--no-progress", cwd=tmp_path, check=True)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    went_down = False
    for trial in study.trials:
        history = TrainingOutcome.read(trial).history["val_accuracy"]
        stored = [trial.intermediate_values[step] for step in sorted(trial.intermediate_values)]
        expected = np.maximum.accumulate(history) if compare == "best_so_far" else history
        assert stored == pytest.approx(list(expected))
        went_down |= any(b < a for a, b in itertools.pairwise(history))
    assert went_down  # else the two ways would store the same values and this test could not tell them apart
