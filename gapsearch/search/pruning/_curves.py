"""A trial's per-epoch values, kept in a user attribute because Optuna refuses them in multi-objective studies.

``Trial.report`` raises ``NotImplementedError`` when a study has several directions (Optuna 5,
``optuna/trial/_trial.py``). Writing intermediate values through the storage instead would slip past
that check and do harm: when such a trial is pruned, Optuna records its last intermediate value as
the trial's only value, one value in a study with several objectives. A user attribute is stored by
every storage, read back by Optuna's API, shown by optuna-dashboard, and given meaning by nobody else.
The record itself is :class:`gapsearch.trial_attrs.MonitoredCurve`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gapsearch.trial_attrs import MonitoredCurve

if TYPE_CHECKING:
    import optuna


def record_value(trial: optuna.Trial, curve: dict[int, float], step: int, value: float) -> None:
    """Add ``value`` at ``step`` to ``curve`` (the trial's own copy) and store the whole curve on the trial.

    As with ``Trial.report``, the first value at a step is kept.
    """
    curve.setdefault(step, float(value))
    MonitoredCurve(curve).write(trial)


def curve_of(trial: optuna.trial.FrozenTrial) -> dict[int, float]:
    """The per-step values a stored trial recorded (empty when it recorded none)."""
    stored = MonitoredCurve.read(trial)
    return {} if stored is None else stored.values


def best_so_far(curve: Mapping[int, float], step: int, *, maximize: bool) -> float | None:
    """The best value at or before ``step``; None when there is none."""
    values = [value for at, value in curve.items() if at <= step]
    if not values:
        return None
    return max(values) if maximize else min(values)
