"""The ``pruner:`` section: one class per pruner, chosen by ``type``.

A pruner compares a trial's per-epoch validation metric with other trials' at the
same epoch and stops the unpromising ones early. Optuna's pruners judge one objective;
``cost_aware`` (gapsearch's own, :mod:`gapsearch.search.pruning`) judges studies with several.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from gapsearch import cost_names
from gapsearch.spec._base import Frozen


class _ComparesEpochs(Frozen):
    """What an Optuna pruner is given at each epoch."""

    compare: Literal["best_so_far", "epoch"] = Field(
        "epoch",
        description="What each epoch reports to the pruner: that epoch's value, or the run's best so far (what the "
        "trial is worth if it stops there: a trial keeps its best epoch's weights and its value is its best epoch's).",
    )


class MedianPruner(_ComparesEpochs):
    type: Literal["median"]
    n_startup_trials: int = Field(5, ge=0, description="Trials that run in full before any is pruned.")
    n_warmup_steps: int = Field(1, ge=0, description="Epochs of each trial before it may be pruned.")
    interval_steps: int = Field(1, ge=1, description="Epochs between pruning checks.")


class PercentilePruner(MedianPruner):
    type: Literal["percentile"]  # type: ignore[assignment]
    percentile: float = Field(25.0, ge=0.0, le=100.0, description="Prune below this percentile of earlier trials.")


class SuccessiveHalvingPruner(_ComparesEpochs):
    type: Literal["successive_halving"]
    min_resource: int | Literal["auto"] = Field("auto", description="Epochs every trial gets before the first rung.")
    reduction_factor: int = Field(3, ge=2, description="Keep the best 1/reduction_factor at each rung.")
    min_early_stopping_rate: int = Field(0, ge=0, description="Rungs skipped before pruning starts.")


class HyperbandPruner(_ComparesEpochs):
    type: Literal["hyperband"]
    min_resource: int = Field(1, ge=1, description="Fewest epochs a trial gets.")
    max_resource: int | Literal["auto"] = Field(
        "auto", description="Most epochs a trial gets; the model's epochs when auto."
    )
    reduction_factor: int = Field(3, ge=2, description="Keep the best 1/reduction_factor at each rung.")


class WilcoxonPruner(_ComparesEpochs):
    type: Literal["wilcoxon"]
    p_threshold: float = Field(0.1, gt=0.0, lt=1.0, description="Prune when worse than the best trial at this p-value.")
    n_startup_steps: int = Field(2, ge=0, description="Steps before a trial may be pruned.")


#: Costs a trial knows before it trains (measured on the built model): what ``cost_aware`` compares trials by.
COSTS_KNOWN_BEFORE_TRAINING: tuple[str, ...] = cost_names.KNOWN_BEFORE_TRAINING


class CostAwarePruner(Frozen):
    """Stops a trial that trials costing no more than it already beat at the same epoch (several objectives)."""

    type: Literal["cost_aware"]
    percentile: float = Field(
        50.0,
        ge=0.0,
        le=100.0,
        description="Keep a trial while it is within this top percentage of its peers (trials that cost no more) "
        "at the same epoch; 50 is their median, 0 prunes whatever any cheaper peer beats.",
    )
    n_startup_trials: int = Field(5, ge=0, description="Completed trials the study holds before any is pruned.")
    n_warmup_steps: int = Field(1, ge=0, description="Epochs of each trial before it may be pruned.")
    interval_steps: int = Field(1, ge=1, description="Epochs between pruning checks.")
    n_min_peers: int = Field(2, ge=1, description="Fewest peers with a value at the epoch for a decision.")


class NoPruner(Frozen):
    type: Literal["none"]


PrunerSpec = Annotated[
    Union[
        MedianPruner,
        PercentilePruner,
        SuccessiveHalvingPruner,
        HyperbandPruner,
        WilcoxonPruner,
        CostAwarePruner,
        NoPruner,
    ],
    Field(discriminator="type"),
]
