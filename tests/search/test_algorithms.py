"""The sampler and pruner tables: every ``type`` a study file may name builds through its table."""

from __future__ import annotations

from typing import get_args

import optuna
import pytest

from gapsearch.search.algorithms import (
    PRUNER_FACTORIES,
    SAMPLER_FACTORIES,
    make_multi_objective_pruner,
    make_pruner,
    make_sampler,
)
from gapsearch.spec.pruners import CostAwarePruner, NoPruner, PrunerSpec
from gapsearch.spec.samplers import SamplerSpec
from tests.spec.test_objectives import TWO, load


def _members(annotated) -> tuple[type, ...]:
    """The classes of a discriminated union (``Annotated[Union[...], Field(discriminator="type")]``)."""
    union = get_args(annotated)[0]
    return get_args(union)


def _type(section: type) -> str:
    (name,) = get_args(section.model_fields["type"].annotation)
    return name


SAMPLERS = _members(SamplerSpec)
PRUNERS = _members(PrunerSpec)


def test_every_sampler_and_pruner_class_of_the_study_file_has_one_line_in_its_table():
    assert set(SAMPLER_FACTORIES) == set(SAMPLERS)
    assert set(PRUNER_FACTORIES) == set(PRUNERS)


@pytest.mark.parametrize("section", SAMPLERS, ids=_type)
def test_every_sampler_type_builds_its_optuna_sampler_through_the_table(tmp_path, section):
    # The section is put in place directly: the environment check (cmaes installed?) is not what is tested.
    spec = load(tmp_path, "metric: val_accuracy\ndirection: maximize\n")
    spec = spec.model_copy(update={"sampler": section(type=_type(section), seed=3)})
    sampler = make_sampler(spec)
    assert isinstance(sampler, optuna.samplers.BaseSampler)
    assert type(sampler).__name__ == section.__name__  # the study file's classes carry Optuna's names


@pytest.mark.parametrize("section", PRUNERS, ids=_type)
def test_every_pruner_type_builds_its_optuna_pruner_through_the_table(tmp_path, section):
    spec = load(tmp_path, TWO).model_copy(update={"pruner": section(type=_type(section))})
    pruner = make_pruner(spec)
    assert isinstance(pruner, optuna.pruners.BasePruner)
    if section in (CostAwarePruner, NoPruner):
        assert type(pruner).__name__ == "NopPruner"  # cost_aware runs in the objective, not in Optuna
        assert (make_multi_objective_pruner(spec) is not None) == (section is CostAwarePruner)
    else:
        assert type(pruner).__name__ == section.__name__
