"""The learning-curve replays: searchers answered from a table on a simulated clock, scored by regret."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from tests.benchmarks.curves import GRID, config_key, configurations
from tests.benchmarks.replay import (
    Curve,
    KerasTunerSearcher,
    OptunaSearcher,
    Replay,
    Table,
    early_stopped,
    gapsearch_searcher,
    optuna_keras_example,
    score,
    wilson,
)
from tests.benchmarks.replay_candidates import CANDIDATES, choose, leave_one_out, tied
from tests.benchmarks.replay_summary import RANDOM, summarize

SEEDS = (1, 2, 3)
EARLIER = "successive halving from epoch 1 (the earlier defaults)"


def run(config, seed, values, seconds):
    return {
        "key": config_key(config),
        "config": config,
        "seed": seed,
        "history": {"val_accuracy": list(values)},
        "seconds": list(seconds),
    }


def synthetic_table(seed: int = 0) -> Table:
    """Every configuration of the grid, three seeds each: curves that rise to their own level at their own
    speed (so that fast starters and late finishers cross), with seed noise; a first epoch that costs more."""
    rng = np.random.default_rng(seed)
    runs = []
    for config in configurations():
        final, speed = 0.70 + 0.08 * rng.random(), 0.3 + 2.0 * rng.random()
        for s in SEEDS:
            epochs = np.arange(1, 7)
            values = final - 0.1 * np.exp(-speed * epochs) + 0.004 * rng.standard_normal(6)
            runs.append(run(config, s, values, [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]))
    return Table.from_runs("synthetic", runs, 6)


@pytest.fixture(scope="module")
def table() -> Table:
    return synthetic_table()


@pytest.mark.parametrize(
    ("values", "patience"),
    [
        ([0.5, 0.6, 0.6, 0.55, 0.7, 0.71], 2),
        ([0.5, 0.6, 0.6, 0.55, 0.7, 0.71], 1),
        ([0.7, 0.6, 0.5, 0.4, 0.3, 0.2], 3),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 1),
        ([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 0),
    ],
)
def test_early_stopping_ends_where_keras_early_stopping_ends(values, patience):
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    stopping = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=patience)
    stopping.set_model(model)
    model.stop_training = False
    stopping.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        epochs += 1
        if patience > 0:
            stopping.on_epoch_end(epoch, {"val_accuracy": value})
        if model.stop_training:
            break
    assert early_stopped(np.array(values), patience) == epochs


def test_a_curve_costs_its_epochs_and_a_resumed_one_pays_building_again():
    config = configurations()[0]
    runs = [
        run(config, 1, [0.5, 0.6, 0.7], [5.0, 2.0, 2.0]),
        run(config, 2, [0.5, 0.6, 0.7], [9.0, 2.0, 2.0]),  # a spell of load on the machine
        run(config, 3, [0.5, 0.6, 0.7], [5.0, 6.0, 2.0]),
    ]
    table = Table.from_runs("t", runs, 3)
    curve = Curve(table, 0, 0)  # each epoch's median over the seeds: 5, 2, 2
    assert curve.cost(0, 3) == pytest.approx(9.0)
    assert curve.cost(0, 1) == pytest.approx(5.0)
    assert curve.cost(1, 3) == pytest.approx(4.0 + 3.0)  # two epochs plus the first epoch's extra 3 s


def test_regret_is_the_chosen_configurations_seed_mean_below_the_grids_best():
    a, b, c = configurations()[:3]
    table = Table.from_runs(
        "t",
        [
            run(a, 1, [0.70, 0.80], [1, 1]),
            run(a, 2, [0.76, 0.78], [1, 1]),  # a: mean of bests 0.79, the grid's best
            run(b, 1, [0.75, 0.77], [1, 1]),  # b: 0.77
            run(c, 1, [0.60, 0.65], [1, 1]),  # c: 0.65, the worst
        ],
        2,
    )
    replay = Replay(ends=[10.0, 20.0, 30.0], choices=[None, table.lookup(b), table.lookup(a)], epochs=[2, 2, 2])
    scored = score(table, [replay], np.array([0.0, 10.0, 25.0, 30.0]))
    # Before anything is chosen: the worst regret; then b's 2 points; then a's 0.
    assert scored.regret[0] == pytest.approx([14.0, 14.0, 2.0, 0.0])
    assert scored.first_within[0] == 30.0
    within_two = score(table, [replay], np.array([30.0]), max_trials=2)
    assert within_two.regret[0, 0] == pytest.approx(2.0)  # the third trial is past a budget of 2
    assert math.isinf(within_two.first_within[0])


def test_gapsearch_at_its_defaults_prunes_with_the_products_pruner_and_replays_the_same_for_the_same_seed(table):
    searcher = gapsearch_searcher("defaults", {})
    first, again, other = (searcher.replay(table, seed, horizon=10_000.0) for seed in (3, 3, 4))
    assert first.ends == again.ends and first.choices == again.choices
    assert first.choices != other.choices or first.ends != other.ends
    assert len(first.ends) == 50  # the largest budget
    assert first.pruned > 0
    # The default successive halving (from epoch 2, reduction factor 2) stops a pruned trial at a rung, epoch 2
    # or 4; early stopping's default patience of 1 stops one the epoch after its best: none trains just one.
    assert {e for e in first.epochs if e < 6} <= {2, 3, 4, 5}
    assert 2 in first.epochs
    assert all(np.diff(first.ends) > 0)


def test_no_pruning_trains_every_trial_until_early_stopping(table):
    replay = gapsearch_searcher("no pruning", CANDIDATES["no pruning"]).replay(table, 0, horizon=10_000.0)
    assert replay.pruned == 0
    assert min(replay.epochs) >= 4  # patience 3 stops at epoch 4 at the soonest


class _FirstTrialPrunedAtEpoch2:
    """A pruner that stops trial 0 at epoch 2 and lets every other trial finish."""

    def prune(self, study, trial) -> bool:
        return trial.number == 0 and trial.last_step == 2


@pytest.mark.parametrize("promote", [False, True])
def test_a_pruned_configuration_that_comes_back_goes_on_from_its_checkpoint_when_promoted(table, promote):
    import optuna

    config = configurations()[5]

    def make(seed):
        pruner = type("Pruner", (_FirstTrialPrunedAtEpoch2, optuna.pruners.BasePruner), {})()
        study = optuna.create_study(direction="maximize", pruner=pruner)
        return study, lambda trial: config  # the search comes back to the same configuration

    searcher = OptunaSearcher("again", "gapsearch", make, max_trials=3, promote=promote)
    replay = searcher.replay(table, 0, horizon=10_000.0)
    assert replay.pruned == 1 and replay.epochs[0] == 2
    assert replay.ends[0] == pytest.approx(3.0 + 2.0)
    second = replay.ends[1] - replay.ends[0]
    # Promoted: epochs 3 to 6 and building again (the first epoch's extra second); else all six epochs.
    assert second == pytest.approx(4 * 2.0 + 1.0 if promote else 3.0 + 5 * 2.0)
    assert replay.epochs[1] == (4 if promote else 6)
    # A completed configuration that comes back trains anew (another seed's run of it) either way.
    assert replay.ends[2] - replay.ends[1] == pytest.approx(3.0 + 5 * 2.0)


def test_random_search_trains_distinct_configurations_for_every_epoch(table):
    replay = KerasTunerSearcher(RANDOM, "random").replay(table, 1, horizon=30 * 13.0)
    assert len(replay.ends) == 30
    assert replay.epochs == [6] * 30
    assert replay.ends[-1] == pytest.approx(30 * 13.0)  # 3 + 5 x 2 seconds each, no overhead in this table


def test_kerastuners_hyperband_promotes_from_the_parents_checkpoint(table):
    replay = KerasTunerSearcher("kerastuner hyperband", "hyperband").replay(table, 0, horizon=200.0)
    # Its first bracket (6 epochs, factor 3): 5 trials of 2 epochs, then 2 of them go on for 4 more.
    assert replay.epochs[:7] == [2, 2, 2, 2, 2, 4, 4]
    promoted_cost = replay.ends[5] - replay.ends[4]
    assert promoted_cost == pytest.approx(4 * 2.0 + 1.0)  # 4 epochs and building again; not the 2 before


def test_optunas_keras_example_takes_the_last_epochs_value(table):
    replay = optuna_keras_example().replay(table, 0, horizon=5 * 13.0)
    assert 0 < len(replay.ends) <= 100


def test_wilson_interval_holds_the_share():
    low, high = wilson(45, 100)
    assert low < 0.45 < high
    assert wilson(0, 10)[0] == 0.0
    assert wilson(10, 10)[1] == pytest.approx(1.0)


def test_summary_choice_and_leave_one_out_on_two_synthetic_tables():
    rows_of = {}
    for dataset, seed in (("one", 0), ("two", 1)):
        table = synthetic_table(seed)
        searchers = {
            RANDOM: KerasTunerSearcher(RANDOM, "random"),
            "gapsearch: defaults": gapsearch_searcher("defaults", {}),
            "gapsearch: no pruning": gapsearch_searcher("no pruning", CANDIDATES["no pruning"]),
            f"gapsearch: {EARLIER}": gapsearch_searcher(EARLIER, CANDIDATES[EARLIER]),
        }
        horizon = len(table.configs) * table.full_trial_seconds()
        rows = {
            name: {"searcher": s, "replays": [s.replay(table, r, horizon) for r in range(6)]}
            for name, s in searchers.items()
        }
        rows_of[dataset] = summarize(table, rows, np.linspace(0, horizon, 41))
    figures = rows_of["one"]
    assert figures["budget_seconds"] == {"8": 104.0, "20": 260.0, "50": 650.0}
    random_row = figures["searchers"][RANDOM]
    assert random_row["budgets"]["8"]["trials_median"] == 8
    assert random_row["time_to_target_ratio_to_random"] in (1.0, None)
    for row in figures["searchers"].values():
        curve = row["curve"]
        assert all(lo <= m <= hi for lo, m, hi in zip(curve["low"], curve["mean"], curve["high"], strict=True))
    summary = {dataset: figures["searchers"] for dataset, figures in rows_of.items()}
    choice = choose(summary, ["one", "two"])
    assert choice["chosen"] in ("no pruning", EARLIER)  # "defaults" is replayed beside the candidates, not one
    assert set(choice["scores"]) == {"no pruning", EARLIER}
    # Scored on its worst data set: the mean over the budgets there, and that is the lower of the two.
    for name, scored in choice["scores"].items():
        per_set = [statistics.fmean(b["chance"] for b in summary[d][f"gapsearch: {name}"]["budgets"].values())
                   for d in ("one", "two")]  # fmt: skip
        assert scored["worst_chance"] == round(min(per_set), 4)
        assert scored["worst_on"] == ("one", "two")[per_set.index(min(per_set))]
    best = max(score["worst_chance"] for score in choice["scores"].values())
    n = 3 * 6  # three budgets, six replays each, on one data set
    assert tied(best, choice["scores"][choice["chosen"]]["worst_chance"], n)
    held_out = leave_one_out(summary)
    assert set(held_out) == {"one", "two"}
    assert held_out["one"]["chosen_on_others"] == choose(summary, ["two"])["chosen"]


def test_the_grid_has_the_adaptive_poolings_and_at_least_64_configurations():
    assert len(configurations()) >= 64
    assert {"attention", "gem"} <= set(GRID["pooling"])
    assert {"embedding_dim", "pooling", "filters", "kernel_size", "learning_rate", "dropout"} <= set(GRID)


def test_replays_are_kept_and_a_searcher_with_the_same_settings_takes_them(table, tmp_path, monkeypatch):
    from tests.benchmarks import curves
    from tests.benchmarks.replay import _kept_replays

    monkeypatch.setattr(curves, "WORK", tmp_path / "curves")
    searcher = gapsearch_searcher(EARLIER, CANDIDATES[EARLIER], max_trials=8)
    first, kept = _kept_replays(table, searcher, 3, 500.0)
    assert not kept and len(first) == 3
    again, kept = _kept_replays(table, searcher, 3, 500.0)
    assert kept and again == first
    # The same settings under another name (as gapsearch's defaults may be a candidate's): the same replays.
    twin = gapsearch_searcher("another name", CANDIDATES[EARLIER], max_trials=8)
    assert _kept_replays(table, twin, 3, 500.0) == (first, True)
    other = gapsearch_searcher("no pruning", CANDIDATES["no pruning"], max_trials=8)
    assert _kept_replays(table, other, 3, 500.0)[1] is False


def test_two_mean_chances_tie_when_their_difference_is_within_noise():
    assert tied(0.37, 0.358, 1200)  # 0.012 apart over 1,200 searches each: within the interval (about 0.039)
    assert not tied(0.37, 0.30, 1200)
    assert not tied(0.37, 0.358, 200_000)  # the same gap is no longer noise with many more searches


def test_kept_figures_stand_for_a_searcher_replayed_again_and_only_while_they_still_hold(table):
    from tests.benchmarks.replay_summary import reusable, same_searcher

    horizon = len(table.configs) * table.full_trial_seconds()
    times = np.linspace(0, horizon, 41)
    searchers = {
        RANDOM: KerasTunerSearcher(RANDOM, "random"),
        "gapsearch: no pruning": gapsearch_searcher("no pruning", CANDIDATES["no pruning"]),
        f"gapsearch: {EARLIER}": gapsearch_searcher(EARLIER, CANDIDATES[EARLIER]),
    }
    rows = {name: {"searcher": s, "replays": [s.replay(table, r, horizon) for r in range(4)]}
            for name, s in searchers.items()}  # fmt: skip
    whole = summarize(table, rows, times)
    earlier = reusable(whole, table, times, 4)
    assert earlier is not None
    # Replaying one searcher again and keeping the others' figures gives the same summary.
    again = {f"gapsearch: {EARLIER}": rows[f"gapsearch: {EARLIER}"]}
    assert summarize(table, again, times, earlier) == whole
    assert same_searcher(whole["searchers"]["gapsearch: no pruning"], searchers["gapsearch: no pruning"])
    assert not same_searcher(whole["searchers"]["gapsearch: no pruning"], searchers[f"gapsearch: {EARLIER}"])
    # Another number of replays, another clock or a grown table: nothing is kept.
    assert reusable(whole, table, times, 5) is None
    assert reusable(whole, table, np.linspace(0, horizon, 21), 4) is None
    assert reusable({**whole, "runs": whole["runs"] + 1}, table, times, 4) is None
