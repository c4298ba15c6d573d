"""The ``search_space:`` section: one class per parameter kind.

A list is shorthand for a categorical choice; ``{low, high}`` is a range whose
int or float kind follows the hyperparameter's own type. ``when`` makes a
parameter conditional on the values of others (sampled only when it applies).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag

from gapsearch.spec._base import Frozen

Scalar = Union[bool, int, float, str]
#: A choice's value: a scalar, or a list of integers for a list-valued hyperparameter (``kernel_sizes``).
ChoiceValue = Union[Scalar, tuple[int, ...]]


def _condition_values(value: Any) -> Any:
    # `when: {pooling: attention}` is shorthand for `when: {pooling: [attention]}`.
    if isinstance(value, dict):
        return {key: v if isinstance(v, list) else [v] for key, v in value.items()}
    return value


Condition = Annotated[
    dict[str, tuple[Scalar, ...]],
    BeforeValidator(_condition_values, json_schema_input_type=dict[str, Union[Scalar, list[Scalar]]]),
]


class Choice(Frozen):
    """A categorical choice among listed values."""

    choices: tuple[ChoiceValue, ...] = Field(
        min_length=1, description="The values to choose from (lists of widths for kernel_sizes)."
    )
    when: Condition | None = Field(None, description="Sample only when these parameters take these values.")

    def active(self, values: dict[str, Any]) -> bool:
        return _active(self.when, values)


class Range(Frozen):
    """An int or float range, inclusive of both ends."""

    low: float = Field(description="Smallest value.")
    high: float = Field(description="Largest value.")
    step: float | None = Field(
        None, gt=0, description="Spacing of the values; continuous (floats) or 1 (ints) when left out."
    )
    log: bool = Field(False, description="Sample on a log scale (low must be > 0; not with step).")
    when: Condition | None = Field(None, description="Sample only when these parameters take these values.")

    def active(self, values: dict[str, Any]) -> bool:
        return _active(self.when, values)


def _active(when: dict[str, tuple[Scalar, ...]] | None, values: dict[str, Any]) -> bool:
    return when is None or all(name in values and values[name] in allowed for name, allowed in when.items())


def _param_kind(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "choice"
    if isinstance(value, dict):
        return "choice" if "choices" in value else "range"
    return "choice" if isinstance(value, Choice) else "range"


def _list_to_choice(value: Any) -> Any:
    return {"choices": list(value)} if isinstance(value, (list, tuple)) else value


ParamSpec = Annotated[
    Union[Annotated[Choice, Tag("choice")], Annotated[Range, Tag("range")]],
    Discriminator(_param_kind),
    BeforeValidator(_list_to_choice, json_schema_input_type=Union[list[ChoiceValue], Choice, Range]),
]
