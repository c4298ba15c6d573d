"""Building Optuna's sampler and pruner from the study file's sections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gapsearch.space import grid
from gapsearch.spec.study import StudySpec

if TYPE_CHECKING:
    import optuna


def make_sampler(spec: StudySpec, *, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """The study's sampler; ``seed_offset`` gives each parallel worker its own stream."""
    import optuna

    config = spec.sampler
    seed = spec.sampler_seed + seed_offset
    if config.type == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=config.n_startup_trials,
            multivariate=config.multivariate,
            group=config.multivariate,
            constant_liar=config.constant_liar,
        )
    if config.type == "nsga2":
        return optuna.samplers.NSGAIISampler(
            seed=seed,
            population_size=config.population_size,
            mutation_prob=config.mutation_prob,
            crossover_prob=config.crossover_prob,
            swapping_prob=config.swapping_prob,
        )
    if config.type == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if config.type == "grid":
        return optuna.samplers.GridSampler(grid(spec.search_space), seed=seed)
    if config.type == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=config.n_startup_trials)
    if config.type == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=config.n_startup_trials)
    return optuna.samplers.QMCSampler(seed=seed, qmc_type=config.qmc_type)


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    """The study's pruner."""
    import optuna

    config = spec.pruner
    if config.type == "median":
        return optuna.pruners.MedianPruner(config.n_startup_trials, config.n_warmup_steps, config.interval_steps)
    if config.type == "percentile":
        return optuna.pruners.PercentilePruner(
            config.percentile, config.n_startup_trials, config.n_warmup_steps, config.interval_steps
        )
    if config.type == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            config.min_resource, config.reduction_factor, config.min_early_stopping_rate
        )
    if config.type == "hyperband":
        max_resource = config.max_resource if config.max_resource != "auto" else _most_epochs(spec)
        return optuna.pruners.HyperbandPruner(config.min_resource, max_resource, config.reduction_factor)
    if config.type == "wilcoxon":
        return optuna.pruners.WilcoxonPruner(p_threshold=config.p_threshold, n_startup_steps=config.n_startup_steps)
    return optuna.pruners.NopPruner()


def _most_epochs(spec: StudySpec) -> int:
    param = spec.search_space.get("epochs")
    if param is None:
        return spec.model.epochs
    return int(max(param.choices)) if hasattr(param, "choices") else int(param.high)
