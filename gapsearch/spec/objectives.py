"""The ``objectives:`` and ``constraints:`` sections: what a trial is judged by, and the bounds it must keep.

A study names one training metric with ``metric``/``direction``, or several quantities with
``objectives``. Any quantity a trial measures may be an objective or be bounded: the validation
metrics of training, and the costs :mod:`gapsearch.models.costs` measures the same way in every trial.
Which names exist is :data:`gapsearch.spec.metrics.METRIC_DIRECTIONS`; the checks hold names to it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from gapsearch import cost_names
from gapsearch.spec._base import Frozen


def _quantity_enum(schema: dict[str, Any]) -> None:
    from gapsearch.spec.metrics import METRIC_DIRECTIONS

    schema["enum"] = list(METRIC_DIRECTIONS)


class ObjectiveSpec(Frozen):
    """One objective: a measured quantity and whether higher or lower is better."""

    metric: str = Field(
        description=f"A validation metric of training (val_accuracy, ...) or a cost ({', '.join(cost_names.NAMES)}).",
        json_schema_extra=_quantity_enum,
    )
    direction: Literal["maximize", "minimize"] = Field(description="Whether a higher or a lower value is better.")


class Bound(Frozen):
    """Bounds a trial must keep to be feasible; a trial outside them is kept and marked infeasible."""

    max: float | None = Field(None, description="Largest feasible value.")
    min: float | None = Field(None, description="Smallest feasible value.")

    @model_validator(mode="after")
    def _check(self) -> Bound:
        if self.max is None and self.min is None:
            raise ValueError("a constraint needs max, min or both, for example {max: 2.0e6}")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min <= max must hold, but got (min={self.min:g}, max={self.max:g})")
        return self

    def violations(self, value: float) -> list[float]:
        """How far ``value`` lies outside each bound (min first), in Optuna's sense: <= 0 is feasible."""
        return ([self.min - value] if self.min is not None else []) + (
            [value - self.max] if self.max is not None else []
        )
