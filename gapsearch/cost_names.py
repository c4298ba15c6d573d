"""The costs a study may name beside its training metrics: one table of their names, directions and kinds.

A cost is measured the same way in every trial: :mod:`gapsearch.models.costs` counts and times the built
model, the objective times training. The study file (:mod:`gapsearch.spec.metrics`, ``spec.pruners``),
the trial record (:class:`gapsearch.trial_attrs.ModelCosts`), the tables and the comparisons all read
the names here, so a new cost is one line in :data:`COSTS` plus where it is measured;
``tests/test_cost_names.py`` checks that the study file accepts every name and a trial records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Cost:
    """One cost a study may make an objective or bound.

    Attributes:
        name: How objectives and constraints name it; also the field of the trial's record that holds it.
        direction: Which way is better.
        known_before_training: Measured on the built model (a :class:`~gapsearch.trial_attrs.ModelCosts`
            field), so the ``cost_aware`` pruner can compare running trials by it; else measured by training.
        count: An integer count (stored and shown as an int), not a time.
    """

    name: str
    direction: Literal["minimize", "maximize"]
    known_before_training: bool
    count: bool


#: Every cost, in the order messages list them.
COSTS: tuple[Cost, ...] = (
    Cost("params", "minimize", known_before_training=True, count=True),
    Cost("embedding_params", "minimize", known_before_training=True, count=True),
    Cost("flops", "minimize", known_before_training=True, count=True),
    Cost("train_seconds", "minimize", known_before_training=False, count=False),
    Cost("latency_ms", "minimize", known_before_training=True, count=False),
)
#: The costs' names.
NAMES: tuple[str, ...] = tuple(cost.name for cost in COSTS)
#: The costs measured on the built model, before any training.
KNOWN_BEFORE_TRAINING: tuple[str, ...] = tuple(cost.name for cost in COSTS if cost.known_before_training)
#: The costs that are integer counts.
COUNTS: tuple[str, ...] = tuple(cost.name for cost in COSTS if cost.count)
