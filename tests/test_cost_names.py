"""The cost table is complete: every cost a study may name is accepted by the study file and recorded on a trial."""

from __future__ import annotations

import dataclasses

import pytest

from gapsearch import cost_names
from gapsearch.spec.metrics import COSTS, METRIC_DIRECTIONS
from gapsearch.spec.pruners import COSTS_KNOWN_BEFORE_TRAINING
from gapsearch.trial_attrs import ModelCosts, TrainingOutcome
from tests.spec.test_objectives import load

COST_IDS = [cost.name for cost in cost_names.COSTS]


def test_the_study_file_and_the_trial_record_read_their_cost_names_from_the_table():
    assert COSTS == cost_names.NAMES and len(set(COSTS)) == len(COSTS)
    assert COSTS_KNOWN_BEFORE_TRAINING == ModelCosts.COST_NAMES == cost_names.KNOWN_BEFORE_TRAINING
    assert not set(COSTS) & {name.removeprefix("val_") for name in METRIC_DIRECTIONS if name.startswith("val_")}


@pytest.mark.parametrize("cost", cost_names.COSTS, ids=COST_IDS)
def test_every_cost_is_an_objective_and_a_bound_the_study_file_accepts(tmp_path, cost):
    objectives = (
        "objectives:\n  - {metric: val_accuracy, direction: maximize}\n"
        f"  - {{metric: {cost.name}, direction: {cost.direction}}}\n"
    )
    spec = load(tmp_path, objectives + f"constraints: {{{cost.name}: {{max: 1.0e9}}}}\n")
    assert spec.objective_names == ["val_accuracy", cost.name] and spec.directions == ["maximize", cost.direction]
    assert cost.name in spec.constraints and METRIC_DIRECTIONS[cost.name] == cost.direction


@pytest.mark.parametrize("cost", cost_names.COSTS, ids=COST_IDS)
def test_every_cost_is_a_field_of_the_trial_record_that_measures_it_and_reads_back(cost):
    record_type = ModelCosts if cost.known_before_training else TrainingOutcome
    assert cost.name in {field.name for field in dataclasses.fields(record_type)}
    if cost.known_before_training:
        record = ModelCosts(params=2609, embedding_params=2400, flops=11384, latency_ms=1.5, latency_batch_size=32)
        stored: dict = {}
        record.write(stored.__setitem__)
        read = ModelCosts.read(stored)
        assert read == record and cost.name in read.values()
        value = getattr(read, cost.name)
    else:
        outcome = TrainingOutcome(
            epochs_run=2, best_epoch=1, train_seconds=3.25, seconds_per_epoch=1.625, train_val_gap=None, history={}
        )
        stored = {}
        outcome.write(stored.__setitem__)
        value = getattr(TrainingOutcome.read(stored), cost.name)
    assert isinstance(value, int) if cost.count else isinstance(value, float)
