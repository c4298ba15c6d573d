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
