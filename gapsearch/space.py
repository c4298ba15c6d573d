"""Sampling the search space: the one place that turns spec parameters into Optuna suggestions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gapsearch.spec.checks import sampling_order
from gapsearch.spec.hyperparameters import INTEGER_NAMES, Hyperparameters
from gapsearch.spec.space import Choice, ParamSpec

if TYPE_CHECKING:
    from collections.abc import Mapping

    import optuna


def sample(trial: optuna.Trial, space: Mapping[str, ParamSpec], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """Suggest a value for every parameter of ``space`` that applies, given the fixed values.

    A conditional parameter is suggested only when its ``when`` holds, so Optuna records
    only the parameters a trial really used.
    """
    values: dict[str, Any] = {}
    for name in sampling_order(space):
        param = space[name]
        if not param.active({**fixed, **values}):
            continue
        if isinstance(param, Choice):
            values[name] = trial.suggest_categorical(name, list(param.choices))
        elif name in INTEGER_NAMES:
            values[name] = trial.suggest_int(
                name, int(param.low), int(param.high), step=int(param.step or 1), log=param.log
            )
        else:
            values[name] = trial.suggest_float(name, param.low, param.high, step=param.step, log=param.log)
    return values


def hyperparameters(fixed: Mapping[str, Any], sampled: Mapping[str, Any]) -> Hyperparameters:
    """The complete hyperparameters of one trial: fixed values overridden by sampled ones."""
    return Hyperparameters.model_validate({**fixed, **sampled})


def grid(space: Mapping[str, ParamSpec]) -> dict[str, list[Any]]:
    """Every value of every parameter, for Optuna's grid sampler (the spec checks made them finite)."""
    values: dict[str, list[Any]] = {}
    for name, param in space.items():
        if isinstance(param, Choice):
            values[name] = list(param.choices)
            continue
        is_int = name in INTEGER_NAMES
        step = param.step or 1
        count = int((param.high - param.low) / step + 1e-9) + 1
        points = [param.low + i * step for i in range(count)]
        values[name] = [int(round(p)) for p in points] if is_int else points
    return values
