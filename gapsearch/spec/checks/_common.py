"""What the checks share: the problem they report, where a key sits and what values a name takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from gapsearch.spec.hyperparameters import INTEGER_NAMES, NUMERIC_NAMES, Hyperparameters
from gapsearch.spec.messages import describe
from gapsearch.spec.space import Choice
from gapsearch.spec.study import StudySpec

#: A key path in the study file and what is wrong there.
Problem = tuple[str, str]


def choice_path(name: str, raw: Mapping[str, Any], index: int | None = None) -> str:
    entry = raw.get("search_space", {}).get(name)
    base = f"search_space.{name}" if isinstance(entry, list) else f"search_space.{name}.choices"
    return base if index is None else f"{base}[{index}]"


def value_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not allowed for hyperparameter ``name`` (its type and bounds), or None."""
    try:
        Hyperparameters.model_validate({name: value})
    except ValidationError as error:
        return describe(error.errors(include_url=False)[0])
    return None


def is_int(name: str) -> bool:
    return name in INTEGER_NAMES


def is_numeric(name: str) -> bool:
    return name in NUMERIC_NAMES


def plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def values_of(spec: StudySpec, name: str) -> list[Any]:
    """The values ``name`` can take in the study: its choices, a range's ends, or its fixed value."""
    param = spec.search_space.get(name)
    if param is None:
        return [getattr(spec.model, name)]
    if isinstance(param, Choice):
        return list(param.choices)
    return [param.low, param.high]


def where(spec: StudySpec, name: str) -> str:
    return f"search_space.{name}" if name in spec.search_space else f"model.{name}"


def given(spec: StudySpec, name: str) -> bool:
    return name in spec.search_space or name in spec.model.model_fields_set
