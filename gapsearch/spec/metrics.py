"""The quantities a trial measures: validation metrics, costs, and the tasks each applies to.

A leaf of the study file's layer: the objectives, constraints and the study itself hold names to these.
"""

from __future__ import annotations

from typing import Literal

from gapsearch import cost_names

Metric = Literal["val_accuracy", "val_auc", "val_macro_f1", "val_mae", "val_rmse", "val_loss"]
METRIC_DIRECTIONS: dict[str, str] = {
    "val_accuracy": "maximize",
    "val_auc": "maximize",
    "val_macro_f1": "maximize",
    "val_mae": "minimize",
    "val_rmse": "minimize",
    "val_loss": "minimize",
}
# Costs measured the same way in every trial (gapsearch.cost_names): objectives and constraints may name them too.
COSTS: tuple[str, ...] = cost_names.NAMES
METRIC_DIRECTIONS.update({cost.name: cost.direction for cost in cost_names.COSTS})
_CLASSIFICATION = ("binary", "multiclass", "multilabel")
#: The tasks whose texts each have one class: a confusion matrix describes their errors.
SINGLE_LABEL_TASKS: tuple[str, ...] = ("binary", "multiclass")
#: The tasks each metric is measured for.
METRIC_TASKS: dict[str, tuple[str, ...]] = {
    "val_accuracy": _CLASSIFICATION,
    "val_auc": _CLASSIFICATION,
    "val_macro_f1": _CLASSIFICATION,
    "val_mae": ("regression",),
    "val_rmse": ("regression",),
    "val_loss": (*_CLASSIFICATION, "regression"),
}
