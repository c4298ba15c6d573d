"""Pruning for studies with several objectives, which Optuna's pruners cannot judge.

Optuna refuses ``Trial.report`` and ``Trial.should_prune`` in a multi-objective study (optuna#3450),
so a trial's per-epoch values live in a user attribute (:mod:`gapsearch.search.pruning._curves`) and the
pruner here reads them from the trials the study stored. Each pruner is one module; the base says
what they all answer.
"""

from gapsearch.search.pruning._base import MultiObjectivePruner, TrialStanding
from gapsearch.search.pruning._cost_aware import CostAwarePruner
from gapsearch.search.pruning._curves import best_so_far, curve_of, record_value
from gapsearch.trial_attrs import INTERMEDIATE_VALUES_KEY

__all__ = [
    "INTERMEDIATE_VALUES_KEY",
    "CostAwarePruner",
    "MultiObjectivePruner",
    "TrialStanding",
    "best_so_far",
    "curve_of",
    "record_value",
]
