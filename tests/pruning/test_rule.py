"""The cost-aware rule on stored trials: who counts as a peer, the warm-up, and the percentile's reading."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from gapsearch.search.pruning import CostAwarePruner, TrialStanding, best_so_far, curve_of
from gapsearch.trial_attrs import INTERMEDIATE_VALUES_KEY


def stored(study: optuna.Study, params: int, curve: list[float], state: str = "COMPLETE") -> None:
    """A finished trial as gapsearch stores it: its cost and its per-epoch values as user attributes."""
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState[state],
            values=[max(curve), params] if state == "COMPLETE" else None,
            user_attrs={"params": params, INTERMEDIATE_VALUES_KEY: {str(i + 1): v for i, v in enumerate(curve)}},
        )
    )


def pruner(**settings) -> CostAwarePruner:
    defaults = {"n_startup_trials": 0, "n_warmup_steps": 1, "n_min_peers": 1}
    return CostAwarePruner(metric="val_accuracy", maximize=True, costs=["params"], **{**defaults, **settings})


def standing(params: int, curve: list[float]) -> TrialStanding:
    return TrialStanding(number=99, costs={"params": params}, curve={i + 1: v for i, v in enumerate(curve)})


@pytest.fixture
def study() -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize"])
    stored(study, 100, [0.6, 0.8, 0.9])
    stored(study, 1000, [0.5, 0.7, 0.95])
    return study


def test_only_trials_that_cost_no_more_are_peers(study):
    # At epoch 2, 0.7 loses to the small trial (0.8) but the large one (0.7) is not a peer of a trial of 500.
    reason = pruner(percentile=50).prune(study, standing(500, [0.5, 0.7]), 2)
    assert reason == (
        "pruned at step 2: best val_accuracy 0.7000 is below 0.8000, the cut at percentile 50 of 1 trials "
        "that cost no more (params)"
    )
    assert pruner(percentile=50).prune(study, standing(50, [0.1, 0.2]), 2) is None  # the cheapest: no peers
    # A trial as large as the largest has both as peers; the median of 0.8 and 0.7 is 0.75.
    assert pruner(percentile=50).prune(study, standing(1000, [0.5, 0.76]), 2) is None
    assert pruner(percentile=50).prune(study, standing(1000, [0.74, 0.6]), 2) is not None  # best so far: 0.74


def test_the_percentile_reads_as_optunas_keep_the_top_share(study):
    values = [0.8, 0.7]  # the peers' bests at epoch 2
    for percentile in (0, 25, 50, 75, 100):
        cut = np.percentile(values, 100 - percentile)
        for mine in (cut - 0.01, cut + 0.01):
            pruned = pruner(percentile=percentile).prune(study, standing(1000, [0.1, mine]), 2) is not None
            assert pruned == (mine < cut), (percentile, mine)
    # Percentile 0 prunes what any cheaper peer beats: dominance at that epoch.
    assert pruner(percentile=0).prune(study, standing(1000, [0.1, 0.79]), 2) is not None


def test_warm_up_interval_and_startup_trials_hold_pruning_back(study):
    hopeless = standing(1000, [0.0, 0.0, 0.0])
    assert pruner(n_warmup_steps=2).prune(study, hopeless, 2) is None
    assert pruner(n_warmup_steps=2).prune(study, hopeless, 3) is not None
    assert pruner(interval_steps=2).prune(study, hopeless, 2) is None  # checks at 3, 5, ...
    assert pruner(interval_steps=2).prune(study, hopeless, 3) is not None
    assert pruner(n_startup_trials=3).prune(study, hopeless, 2) is None  # two completed trials so far
    assert pruner(n_min_peers=3).prune(study, hopeless, 2) is None
    assert pruner().prune(study, hopeless, 4) is None  # no peer reached epoch 4
    last = TrialStanding(number=99, costs={"params": 1000}, curve={1: 0.0, 2: 0.0, 3: 0.0}, last_step=3)
    assert pruner().prune(study, last, 2) is not None
    assert pruner().prune(study, last, 3) is None  # trained to the end: pruning would only lose it


def test_pruned_trials_are_peers_where_they_reached_and_minimizing_mirrors_the_cut():
    study = optuna.create_study(directions=["minimize", "minimize"])
    stored(study, 10, [0.9, 0.4], state="PRUNED")
    stored(study, 10, [0.9, 0.6])
    rule = CostAwarePruner(metric="val_loss", maximize=False, costs=["params"], n_startup_trials=1, n_min_peers=2)
    assert rule.prune(study, standing(10, [0.8, 0.45]), 2) is None  # the median of 0.4 and 0.6 is 0.5
    reason = rule.prune(study, standing(10, [0.8, 0.55]), 2)
    assert reason is not None and "best val_loss 0.5500 is above 0.5000" in reason


def test_curves_and_bad_settings():
    trial = optuna.trial.create_trial(values=[1.0, 2.0], user_attrs={INTERMEDIATE_VALUES_KEY: {"2": 0.5, "1": 0.7}})
    assert curve_of(trial) == {1: 0.7, 2: 0.5}
    assert best_so_far(curve_of(trial), 1, maximize=True) == 0.7 and best_so_far({}, 3, maximize=True) is None
    with pytest.raises(ValueError, match="at least one cost"):
        CostAwarePruner(metric="val_accuracy", maximize=True, costs=[])
