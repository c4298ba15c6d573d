"""Sampling the search space: the one place that turns spec parameters into Optuna suggestions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gapsearch.spec.checks import sampling_order
from gapsearch.spec.hyperparameters import INTEGER_NAMES, LIST_NAMES, Hyperparameters
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
            label = trial.suggest_categorical(name, [choice_label(c) for c in param.choices])
            values[name] = from_label(name, label)
        elif name in INTEGER_NAMES:
            values[name] = trial.suggest_int(
                name, int(param.low), int(param.high), step=int(param.step or 1), log=param.log
            )
        else:
            values[name] = trial.suggest_float(name, param.low, param.high, step=param.step, log=param.log)
    return values


def hyperparameters(fixed: Mapping[str, Any], sampled: Mapping[str, Any]) -> Hyperparameters:
    """The complete hyperparameters of one trial: fixed values overridden by sampled (or stored) ones."""
    return Hyperparameters.model_validate({**fixed, **{name: from_label(name, v) for name, v in sampled.items()}})


def choice_label(value: Any) -> Any:
    """A choice as Optuna stores it: a scalar as it is, a list of widths as ``"3,4,5"``.

    Optuna's categorical distributions hold scalars only; the label is what the dashboard shows.
    """
    if isinstance(value, (tuple, list)):
        return ",".join(str(int(v)) for v in value)
    return value


def from_label(name: str, value: Any) -> Any:
    """The value a stored parameter stands for: ``"3,4,5"`` of a list-valued hyperparameter is ``(3, 4, 5)``."""
    if name in LIST_NAMES and isinstance(value, str):
        return tuple(int(part) for part in value.split(","))
    return value


def grid(space: Mapping[str, ParamSpec]) -> dict[str, list[Any]]:
    """Every value of every parameter, for Optuna's grid sampler (the spec checks made them finite)."""
    values: dict[str, list[Any]] = {}
    for name, param in space.items():
        if isinstance(param, Choice):
            values[name] = [choice_label(c) for c in param.choices]
            continue
        is_int = name in INTEGER_NAMES
        step = param.step or 1
        count = int((param.high - param.low) / step + 1e-9) + 1
        points = [param.low + i * step for i in range(count)]
        values[name] = [int(round(p)) for p in points] if is_int else points
    return values
