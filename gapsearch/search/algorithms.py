"""Building Optuna's sampler and pruner, and gapsearch's own multi-objective pruner, from the study file."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gapsearch.search.space import grid
from gapsearch.spec import pruners, samplers
from gapsearch.spec.study import StudySpec

if TYPE_CHECKING:
    import optuna

    from gapsearch.search.pruning import MultiObjectivePruner


def make_sampler(spec: StudySpec, *, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """The study's sampler; ``seed_offset`` gives each parallel worker its own stream."""
    import optuna

    config = spec.sampler
    return SAMPLER_FACTORIES[type(config)](optuna.samplers, config, spec, spec.sampler_seed + seed_offset)


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    """The study's Optuna pruner (none for ``cost_aware``: the objective runs that one itself)."""
    import optuna

    return PRUNER_FACTORIES[type(spec.pruner)](optuna.pruners, spec.pruner, spec)


#: Each ``sampler:`` class of the study file and how it builds its Optuna sampler from
#: ``(optuna.samplers, the section, the study, the seed)``; ``tests/search/test_algorithms.py`` fails when
#: a class of ``SamplerSpec`` has no line.
SAMPLER_FACTORIES: dict[type, Callable[[Any, Any, StudySpec, int], optuna.samplers.BaseSampler]] = {
    samplers.TPESampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.TPESampler(
        seed=seed,
        n_startup_trials=config.n_startup_trials,
        multivariate=config.multivariate,
        group=config.multivariate,
        constant_liar=config.constant_liar,
    ),
    samplers.NSGAIISampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.NSGAIISampler(
        seed=seed,
        population_size=config.population_size,
        mutation_prob=config.mutation_prob,
        crossover_prob=config.crossover_prob,
        swapping_prob=config.swapping_prob,
    ),
    samplers.RandomSampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.RandomSampler(seed=seed),
    samplers.GridSampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.GridSampler(
        grid(spec.search_space), seed=seed
    ),
    samplers.GPSampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.GPSampler(
        seed=seed, n_startup_trials=config.n_startup_trials
    ),
    samplers.CmaEsSampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.CmaEsSampler(
        seed=seed, n_startup_trials=config.n_startup_trials
    ),
    samplers.QMCSampler: lambda optuna_samplers, config, spec, seed: optuna_samplers.QMCSampler(
        seed=seed, qmc_type=config.qmc_type
    ),
}

#: Each ``pruner:`` class of the study file and how it builds its Optuna pruner from
#: ``(optuna.pruners, the section, the study)``; ``cost_aware`` is Optuna's no-op, as the objective runs
#: it (:func:`make_multi_objective_pruner`). ``tests/search/test_algorithms.py`` fails when a class of
#: ``PrunerSpec`` has no line.
PRUNER_FACTORIES: dict[type, Callable[[Any, Any, StudySpec], optuna.pruners.BasePruner]] = {
    pruners.MedianPruner: lambda optuna_pruners, config, spec: optuna_pruners.MedianPruner(
        config.n_startup_trials, config.n_warmup_steps, config.interval_steps
    ),
    pruners.PercentilePruner: lambda optuna_pruners, config, spec: optuna_pruners.PercentilePruner(
        config.percentile, config.n_startup_trials, config.n_warmup_steps, config.interval_steps
    ),
    pruners.SuccessiveHalvingPruner: lambda optuna_pruners, config, spec: optuna_pruners.SuccessiveHalvingPruner(
        config.min_resource, config.reduction_factor, config.min_early_stopping_rate
    ),
    pruners.HyperbandPruner: lambda optuna_pruners, config, spec: optuna_pruners.HyperbandPruner(
        config.min_resource,
        config.max_resource if config.max_resource != "auto" else _most_epochs(spec),
        config.reduction_factor,
    ),
    pruners.WilcoxonPruner: lambda optuna_pruners, config, spec: optuna_pruners.WilcoxonPruner(
        p_threshold=config.p_threshold, n_startup_steps=config.n_startup_steps
    ),
    pruners.CostAwarePruner: lambda optuna_pruners, config, spec: optuna_pruners.NopPruner(),
    pruners.NoPruner: lambda optuna_pruners, config, spec: optuna_pruners.NopPruner(),
}


def make_multi_objective_pruner(spec: StudySpec) -> MultiObjectivePruner | None:
    """The pruner a study with several objectives runs per epoch, or None when it has none."""
    from gapsearch.search.pruning import CostAwarePruner
    from gapsearch.spec.pruners import COSTS_KNOWN_BEFORE_TRAINING

    config = spec.pruner
    if config.type != "cost_aware":
        return None
    return CostAwarePruner(
        metric=spec.monitored.metric,
        maximize=spec.monitored.direction == "maximize",
        costs=[name for name in spec.objective_names if name in COSTS_KNOWN_BEFORE_TRAINING],
        percentile=config.percentile,
        n_startup_trials=config.n_startup_trials,
        n_warmup_steps=config.n_warmup_steps,
        interval_steps=config.interval_steps,
        n_min_peers=config.n_min_peers,
    )


def _most_epochs(spec: StudySpec) -> int:
    param = spec.search_space.get("epochs")
    if param is None:
        return spec.model.epochs
    most = max(param.choices) if hasattr(param, "choices") else param.high
    return int(most)  # type: ignore[arg-type]  # epochs is an integer hyperparameter (spec.checks)
