"""The cost-aware rule: stop a trial that trials costing no more than it already beat at this epoch.

A trial reaches the Pareto front of (validation metric, costs) only if no trial that costs no more
does better. Its costs (parameters, FLOPs, latency) are measured on the built model before the first
epoch, so at epoch *e* its *peers* are the finished trials (completed or pruned) whose every cost
objective is at most its own and that reached epoch *e*. Each side is taken at its best value up to
*e*; the trial stops when it is worse than the peers' ``percentile`` threshold, read as Optuna's
``PercentilePruner`` reads it: keep the top ``percentile`` per cent (50 is the median; near 0, any
cheaper trial that is better prunes it, which is dominance at that epoch).

Warm-up: nothing is pruned before the study holds ``n_startup_trials`` completed trials, before a
trial's ``n_warmup_steps`` epochs, off the ``interval_steps`` grid, at a trial's very last epoch
(nothing is left to save), or with fewer than ``n_min_peers`` peers. So the cheapest trials are never
pruned (nothing costs less), which keeps the cheap end of the front.

Limits: it judges by the monitored (first training) metric alone, not by a second training
objective; a trial whose curve would overtake its peers' after epoch *e* is lost, as with any pruner
that judges by intermediate values; and peers are read from the database at each check, so a check
costs one query of the study's finished trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gapsearch.search.pruning._base import MultiObjectivePruner, TrialStanding
from gapsearch.search.pruning._curves import best_so_far, curve_of
from gapsearch.trial_attrs import ModelCosts

if TYPE_CHECKING:
    import optuna


class CostAwarePruner(MultiObjectivePruner):
    """Prunes a trial worse, at the same epoch, than the ``percentile`` of finished trials that cost no more.

    Args:
        metric: The monitored validation metric (for the reason line).
        maximize: Whether a higher ``metric`` is better.
        costs: The cost objectives trials are compared by; every one is minimized.
        percentile: Keep a trial within this top percentage of its peers (0 to 100).
        n_startup_trials: Completed trials before any pruning.
        n_warmup_steps: Steps (epochs) of each trial before it may be pruned.
        interval_steps: Steps between checks, counted from the warm-up's end.
        n_min_peers: Fewest peers for a decision.
    """

    def __init__(
        self,
        *,
        metric: str,
        maximize: bool,
        costs: Sequence[str],
        percentile: float = 50.0,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 1,
        interval_steps: int = 1,
        n_min_peers: int = 2,
    ) -> None:
        if not costs:
            raise ValueError("the cost-aware pruner needs at least one cost to compare trials by")
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"0 <= percentile <= 100 must hold, but got {percentile}")
        self.metric = metric
        self.maximize = maximize
        self.costs = tuple(costs)
        self.percentile = percentile
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps
        self.interval_steps = interval_steps
        self.n_min_peers = n_min_peers

    def prune(self, study: optuna.Study, trial: TrialStanding, step: int) -> str | None:
        from optuna.trial import TrialState

        if step <= self.n_warmup_steps or (step - self.n_warmup_steps) % self.interval_steps != 0:
            return None
        if trial.last_step is not None and step >= trial.last_step:
            return None  # trained to the end already: stopping now saves nothing
        mine = best_so_far(trial.curve, step, maximize=self.maximize)
        if mine is None:
            return None
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        if sum(peer.state == TrialState.COMPLETE for peer in finished) < self.n_startup_trials:
            return None
        values = [
            value
            for peer in finished
            if peer.number != trial.number and self._costs_no_more(peer, trial)
            for value in [_reached(peer, step, self.maximize)]
            if value is not None
        ]
        if len(values) < self.n_min_peers:
            return None
        # Optuna's reading of a percentile: keep the top ``percentile`` per cent, so the cut is mirrored.
        cut = float(np.percentile(values, 100.0 - self.percentile if self.maximize else self.percentile))
        if (mine < cut) if self.maximize else (mine > cut):
            return (
                f"pruned at step {step}: best {self.metric} {mine:.4f} is "
                f"{'below' if self.maximize else 'above'} {cut:.4f}, the cut at percentile {self.percentile:g} "
                f"of {len(values)} trials that cost no more ({', '.join(self.costs)})"
            )
        return None

    def _costs_no_more(self, peer: optuna.trial.FrozenTrial, trial: TrialStanding) -> bool:
        stored = ModelCosts.read(peer)
        costs = {} if stored is None else stored.values()
        for name in self.costs:
            cost = costs.get(name)
            if cost is None or cost > trial.costs[name]:
                return False
        return True


def _reached(peer: optuna.trial.FrozenTrial, step: int, maximize: bool) -> float | None:
    """A peer's best value up to ``step``, when it trained as far as ``step``."""
    curve = curve_of(peer)
    return best_so_far(curve, step, maximize=maximize) if step in curve else None
