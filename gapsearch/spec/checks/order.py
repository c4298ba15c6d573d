"""The order the parameters are sampled in, and how many configurations the search space holds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gapsearch.spec.checks._common import is_int
from gapsearch.spec.space import Choice, Range
from gapsearch.spec.study import StudySpec


def sampling_order(space: Mapping[str, Choice | Range]) -> list[str]:
    """Parameter names, each after the parameters its ``when`` names; file order otherwise."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ValueError(f"the conditions form a cycle through {name!r}; a parameter cannot depend on itself")
        visiting.add(name)
        for other in space[name].when or {}:
            if other in space and other != name:
                visit(other)
        visiting.discard(name)
        order.append(name)

    for name in space:
        visit(name)
    return order


def space_size(spec: StudySpec) -> int | float:
    """How many distinct configurations the search space holds (``math.inf`` with a continuous range)."""
    space = spec.search_space
    order = sampling_order(space)

    def count(index: int, values: dict[str, Any]) -> float:
        if index == len(order):
            return 1
        name = order[index]
        param = space[name]
        if not param.active(values):
            return count(index + 1, values)
        if isinstance(param, Choice):
            if any(name in (p.when or {}) for p in space.values()):
                return sum(count(index + 1, {**values, name: choice}) for choice in param.choices)
            return len(param.choices) * count(index + 1, values)
        if param.step is None and not is_int(name):
            return math.inf
        step = param.step or 1
        return (math.floor((param.high - param.low) / step + 1e-9) + 1) * count(index + 1, values)

    total = count(0, dict(spec.fixed))
    return total if total == math.inf else int(total)
