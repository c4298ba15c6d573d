"""Checks of the search space: known names, valid choices and ranges, conditions, what the grid sampler needs."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any

from gapsearch.spec.checks._common import Problem, choice_path, is_int, is_numeric, plain_number, value_problem
from gapsearch.spec.checks.order import sampling_order
from gapsearch.spec.hyperparameters import FIXED_ONLY_NAMES, HYPERPARAMETER_NAMES, Hyperparameters
from gapsearch.spec.messages import did_you_mean
from gapsearch.spec.space import Choice, Range
from gapsearch.spec.study import StudySpec


def check_search_space_names(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for name in spec.search_space:
        if name not in HYPERPARAMETER_NAMES:
            yield f"search_space.{name}", "unknown hyperparameter; " + did_you_mean(name, HYPERPARAMETER_NAMES)


def check_fixed_only(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for name in spec.search_space:
        if name in FIXED_ONLY_NAMES:
            yield f"search_space.{name}", f"cannot be searched; set it under model.{name} (a study per choice)"


def check_fixed_or_searched(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for name in spec.search_space:
        if name in spec.model.model_fields_set:
            yield (
                f"search_space.{name}",
                f"is also fixed under model.{name}; a hyperparameter is either fixed or searched, not both",
            )


def check_choices(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for name, param in spec.search_space.items():
        if name not in HYPERPARAMETER_NAMES or not isinstance(param, Choice):
            continue
        for index, value in enumerate(param.choices):
            problem = value_problem(name, value)
            if problem:
                yield choice_path(name, raw, index), problem
        repeated = sorted({repr(v) for v in param.choices if param.choices.count(v) > 1})
        if repeated:
            yield choice_path(name, raw), f"lists {', '.join(repeated)} more than once"


def _allowed_values(annotation: Any) -> list[str]:
    """The values a non-numeric hyperparameter takes, as a study file writes them."""
    if annotation is bool:
        return ["true", "false"]
    if typing.get_origin(annotation) is typing.Literal:
        return [repr(value) for value in typing.get_args(annotation)]
    return [value for member in typing.get_args(annotation) for value in _allowed_values(member)]


def check_ranges(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for name, param in spec.search_space.items():
        if name not in HYPERPARAMETER_NAMES or not isinstance(param, Range):
            continue
        path = f"search_space.{name}"
        if not is_numeric(name):
            allowed = ", ".join(_allowed_values(Hyperparameters.model_fields[name].annotation))
            yield path, f"a range needs a numeric hyperparameter; give a list of choices from {allowed}"
            continue
        fractional = set()
        if is_int(name):
            for key in ("low", "high", "step"):
                value = getattr(param, key)
                if value is not None and not float(value).is_integer():
                    fractional.add(key)
                    yield f"{path}.{key}", f"{name} is an integer, but got {value!r}"
        for key in ("low", "high"):
            value = getattr(param, key)
            if key in fractional:
                continue
            problem = value_problem(name, int(value) if is_int(name) else value)
            if problem:
                yield f"{path}.{key}", problem
        if param.low > param.high:
            low, high = plain_number(param.low), plain_number(param.high)
            yield path, f"low <= high must hold, but got (low={low}, high={high})"
        if param.log and param.step is not None:
            yield path, "log and step cannot be used together; drop one of them"
        if param.log and param.low <= 0:
            yield f"{path}.low", f"a log range needs low > 0, but got {plain_number(param.low)}"


def check_conditions(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    fixed = spec.fixed
    for name, param in spec.search_space.items():
        for other, values in (param.when or {}).items():
            path = f"search_space.{name}.when.{other}"
            if other == name:
                yield path, "a parameter cannot depend on itself"
            elif other in spec.search_space:
                parent = spec.search_space[other]
                if not isinstance(parent, Choice):
                    yield path, f"may only name a parameter searched as a list of choices, but {other} is a range"
                    continue
                unknown = [v for v in values if v not in parent.choices]
                if unknown:
                    choices = ", ".join(repr(c) for c in parent.choices)
                    yield path, f"{unknown[0]!r} is not among the choices of {other} ({choices})"
            elif other in fixed:
                if fixed[other] not in values:
                    yield path, f"{other} is fixed at {fixed[other]!r}, so {name} would never be sampled"
            else:
                yield path, f"unknown parameter {other!r}; " + did_you_mean(other, spec.search_space)
    yield from _cycle_problems(spec)


def _cycle_problems(spec: StudySpec) -> Iterator[Problem]:
    try:
        sampling_order(spec.search_space)
    except ValueError as error:
        yield "search_space", str(error)


def check_grid(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    if spec.sampler.type != "grid":
        return
    if not spec.search_space:
        yield "search_space", "the grid sampler needs at least one parameter to search"
    for name, param in spec.search_space.items():
        if param.when:
            yield f"search_space.{name}.when", "the grid sampler cannot search conditional parameters"
        if isinstance(param, Range) and param.step is None and not (name in HYPERPARAMETER_NAMES and is_int(name)):
            yield f"search_space.{name}", "the grid sampler needs a finite set of values: give a step or a list"
