"""Building Optuna's sampler and pruner, and gapsearch's own multi-objective pruner, from the study file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gapsearch.search.space import grid
from gapsearch.spec.study import StudySpec

if TYPE_CHECKING:
    import optuna

    from gapsearch.search.pruning import MultiObjectivePruner


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
    """The study's Optuna pruner (none for ``cost_aware``: the objective runs that one itself)."""
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
