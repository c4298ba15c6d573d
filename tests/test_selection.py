"""One choice of trial for every command: best, a number, or the Pareto-optimal trial best in a named objective."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from gapsearch.errors import StorageError, UserError
from gapsearch.search.selection import choose_trial, trial_hyperparameters
from gapsearch.spec import load_study
from tests.conftest import TINY_STUDY

PARETO = TINY_STUDY.replace(
    "metric: val_accuracy\ndirection: maximize\n",
    "objectives:\n  - {metric: val_accuracy, direction: maximize}\n  - {metric: params, direction: minimize}\n",
)
DIM = {"embedding_dim": CategoricalDistribution([4, 8])}


def _spec(tmp_path, text=PARETO):
    (tmp_path / "study.yaml").write_text(text)
    return load_study(tmp_path / "study.yaml")


def _study(directions, trials):
    study = optuna.create_study(directions=directions)
    for values, state in trials:
        study.add_trial(
            create_trial(
                state=state,
                values=values if state == TrialState.COMPLETE else None,
                params={"embedding_dim": 4},
                distributions=DIM,
                user_attrs={"sequence_length": 17},
            )
        )
    return study


def test_best_of_a_pareto_study_is_the_front_trial_best_in_the_monitored_metric_or_the_one_named(tmp_path):
    spec = _spec(tmp_path)
    complete = TrialState.COMPLETE
    study = _study(
        ["maximize", "minimize"],
        [([0.70, 900], complete), ([0.80, 5000], complete), ([0.60, 100], complete), ([0.50, 6000], complete)],
    )
    assert sorted(t.number for t in study.best_trials) == [0, 1, 2]
    assert choose_trial(spec, study).number == 1
    assert choose_trial(spec, study, "best", by="val_accuracy").number == 1
    assert choose_trial(spec, study, by="params").number == 2
    assert choose_trial(spec, study, "3").number == 3  # any completed trial, on the front or not
    assert choose_trial(spec, study, 0).number == 0


def test_ties_go_to_the_earlier_trial(tmp_path):
    spec = _spec(tmp_path, TINY_STUDY)
    study = _study(["maximize"], [([0.5], TrialState.COMPLETE), ([0.7], TrialState.COMPLETE)])
    assert choose_trial(spec, study).number == 1
    spec = _spec(tmp_path)
    study = _study(["maximize", "minimize"], [([0.7, 300], TrialState.COMPLETE), ([0.7, 300], TrialState.COMPLETE)])
    assert choose_trial(spec, study).number == 0


@pytest.mark.parametrize(
    ("which", "by", "error", "message"),
    [
        ("x", None, UserError, "--trial: 'x' is not a trial number; expected 'best' or a number such as 3"),
        (9, None, UserError, "--trial: study 'tiny' has no trial 9; its trials are 0 to 1"),
        (1, None, UserError, "--trial: trial 1 of study 'tiny' is PRUNED; only completed trials can be chosen"),
        ("best", "size", UserError, "--by: 'size' is not an objective of study 'tiny'; expected 'val_accuracy' or"),
        (0, "params", UserError, "--by chooses among the Pareto-optimal trials, so it goes with --trial best, not 0"),
    ],
)
def test_a_bad_choice_is_one_line_naming_what_is_accepted(tmp_path, which, by, error, message):
    spec = _spec(tmp_path)
    study = _study(["maximize", "minimize"], [([0.7, 300], TrialState.COMPLETE), (None, TrialState.PRUNED)])
    with pytest.raises(error) as raised:
        choose_trial(spec, study, which, by=by)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_study_without_a_completed_trial_says_so(tmp_path):
    spec = _spec(tmp_path)
    study = _study(["maximize", "minimize"], [(None, TrialState.PRUNED)])
    with pytest.raises(StorageError, match=r"^study 'tiny' has no completed trial yet; run it first$"):
        choose_trial(spec, study)


def test_the_hyperparameters_resolve_sequence_length_auto_from_what_the_trial_recorded(tmp_path):
    spec = _spec(tmp_path, PARETO.replace("sequence_length: 30", "sequence_length: auto"))
    study = _study(["maximize", "minimize"], [([0.7, 300], TrialState.COMPLETE)])
    hp = trial_hyperparameters(spec, study.trials[0])
    assert (hp.sequence_length, hp.embedding_dim, hp.filters) == (17, 4, 8)


def test_with_every_trial_breaking_a_bound_the_report_names_no_single_best_trial(tmp_path):
    from gapsearch.optuna_compat import CONSTRAINTS_KEY
    from gapsearch.results.report import collect, headline

    spec = _spec(tmp_path, TINY_STUDY + "constraints: {params: {max: 1000}}\n")
    study = optuna.create_study(direction="maximize")
    space = {**DIM, "pooling": CategoricalDistribution(["average", "max", "attention"])}
    for value in (0.9, 0.8):
        study.add_trial(
            create_trial(
                value=value,
                params={"embedding_dim": 4, "pooling": "max"},
                distributions=space,
                system_attrs={CONSTRAINTS_KEY: [1.0]},
            )
        )
    with pytest.raises(StorageError, match=r"^study 'tiny' has no feasible trial yet: all 2 completed trials break"):
        choose_trial(spec, study)
    answer = headline(collect(study, spec, explanations=False))
    assert answer.sentences[-1] == "No completed trial kept every bound of constraints, so none is the single best."


CONSTRAINED = """\
name: {name}
metric: val_accuracy
direction: maximize
n_trials: 2
seed: 5
sampler: {{type: grid}}
pruner: {{type: none}}
data: {{format: synthetic, n_examples: 160, min_length: 4, max_length: 20}}
artifacts: {{store: artifacts, save_models: all}}
constraints: {{params: {{max: 100000}}}}
model:
  max_tokens: 200
  sequence_length: auto
  epochs: 1
  patience: 0
  batch_size: 32
  filters: 4
  embedding_dim: 4
search_space:
  pooling: [average, max]
"""


@pytest.mark.slow
def test_every_command_names_the_same_feasible_trial_when_the_best_value_breaks_its_constraint(tmp_path, monkeypatch):
    """report's headline, best, export, evaluate and compare all take trial 1: trial 0 has the best value but
    breaks its bound of ``constraints:``, so Optuna's own ``best_trial`` is trial 1 too."""
    from gapsearch.optuna_compat import CONSTRAINTS_KEY
    from tests.conftest import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ran.yaml").write_text(CONSTRAINED.format(name="ran"))
    assert cli("run", "ran.yaml", "--no-progress").exit_code == 0
    url = f"sqlite:///{tmp_path / 'gapsearch.db'}"
    ran = optuna.load_study(study_name="ran", storage=url).trials
    # The study the commands read: the trained trials again (their models, setup and training records), with the
    # values and constraint values written through Optuna's API where its samplers and best_trial read them.
    study = optuna.create_study(study_name="constrained", storage=url, direction="maximize")
    for source, value, violation in ((ran[0], 0.95, 5.0), (ran[1], 0.80, -1.0), (ran[0], 0.70, -2.0)):
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE,
                value=value,
                params=source.params,
                distributions=source.distributions,
                user_attrs=source.user_attrs,
                system_attrs={**source.system_attrs, CONSTRAINTS_KEY: [violation]},
                intermediate_values=source.intermediate_values,
            )
        )
    assert max(study.trials, key=lambda t: t.value).number == 0  # the best raw value breaks its bound
    assert study.best_trial.number == 1  # Optuna's reference: the best feasible trial
    (tmp_path / "constrained.yaml").write_text(CONSTRAINED.format(name="constrained"))

    report = cli("report", "constrained.yaml", "-o", "report")
    assert report.exit_code == 0, report.output
    page = (tmp_path / "report" / "report.html").read_text("utf-8")
    assert "The single best trial is #1 (validation accuracy 0.8000)." in page
    best = cli("best", "constrained.yaml")
    assert best.exit_code == 0 and best.output.startswith("best trial: 1  val_accuracy=0.8\n"), best.output
    exported = cli("export", "constrained.yaml", "-o", "model.keras")
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith("trial 1 (val_accuracy=0.8) exported to model.keras")
    evaluated = cli("evaluate", "constrained.yaml")
    assert evaluated.exit_code == 0 and evaluated.output.startswith("trial 1: trained on train ("), evaluated.output
    compared = cli("compare", "constrained.yaml", "--param", "pooling", "--seeds", "2", "--no-progress")
    assert compared.exit_code == 0, compared.output
    assert "other parameters from trial 1:" in compared.output
    stored = optuna.load_study(study_name="constrained", storage=url).user_attrs
    assert stored["test_metrics"].keys() == {"1"}


@pytest.mark.slow
def test_with_save_models_best_a_trial_that_breaks_its_bound_keeps_no_model_and_removes_none(tmp_path, monkeypatch):
    """``save_models: best`` keeps a model only for a trial that leads among the feasible ones. Trial 1 breaks its
    bound with the best value: it kept its model and removed the feasible trial 0's, and ``export`` (trial 0, as
    Optuna's best_trial) failed. Trial 2, feasible and better than trial 0, still leads and removes trial 0's."""
    from optuna.artifacts import download_artifact, upload_artifact

    from gapsearch.optuna_compat import set_trial_constraints
    from gapsearch.search.artifacts import keeps_model, model_artifacts, open_artifact_store, remove_beaten_models
    from tests.conftest import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ran.yaml").write_text(CONSTRAINED.format(name="ran"))
    assert cli("run", "ran.yaml", "--no-progress").exit_code == 0
    url = f"sqlite:///{tmp_path / 'gapsearch.db'}"
    ran_study = optuna.load_study(study_name="ran", storage=url)
    ran = ran_study.trials
    (tmp_path / "best.yaml").write_text(
        CONSTRAINED.format(name="best").replace("save_models: all", "save_models: best")
    )
    spec = load_study(tmp_path / "best.yaml")
    store = open_artifact_store(spec.artifacts)
    models = {}
    for source in ran:
        (tmp_path / str(source.number)).mkdir()
        models[source.number] = tmp_path / str(source.number) / "model.keras"
        (meta,) = model_artifacts(ran_study, source)
        download_artifact(artifact_store=store, file_path=str(models[source.number]), artifact_id=meta.artifact_id)
    # Each trial as the objective stores it: its records, its constraint values, then its model if it leads.
    study = optuna.create_study(study_name="best", storage=url, direction="maximize")
    kept, removed = [], []
    for source, value, violation in ((ran[0], 0.70, -1.0), (ran[1], 0.95, 5.0), (ran[1], 0.80, -1.0)):
        study.enqueue_trial(source.params)
        trial = study.ask(source.distributions)
        for key, attr in source.user_attrs.items():
            trial.set_user_attr(key, attr)
        set_trial_constraints(trial, [violation])
        kept.append(keeps_model(trial, spec, value))
        if kept[-1]:
            upload_artifact(artifact_store=store, file_path=str(models[source.number]), study_or_trial=trial)
            removed.append(remove_beaten_models(study, store, value, by_trial=trial.number))
        study.tell(trial, value)
        if trial.number == 1:
            assert study.best_trial.number == 0
            exported = cli("export", "best.yaml", "-o", "after-1.keras")
            assert exported.exit_code == 0, exported.output
            assert exported.output.startswith("trial 0 (val_accuracy=0.7) exported to after-1.keras")
    assert (kept, removed) == ([True, False, True], [0, 1])
    assert study.best_trial.number == 2
    exported = cli("export", "best.yaml", "-o", "model.keras")
    assert exported.exit_code == 0 and exported.output.startswith("trial 2 (val_accuracy=0.8) exported"), (
        exported.output
    )
    gone = cli("export", "best.yaml", "--trial", "0", "-o", "beaten.keras")
    assert gone.exit_code != 0 and "removed" in gone.output, gone.output
