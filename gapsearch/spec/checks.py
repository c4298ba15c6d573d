"""Cross-field checks of a study file that pydantic's per-field types cannot express.

Each check is a small named function that yields ``(key path, problem)`` pairs;
:func:`run_checks` runs them all so that a user sees every mistake at once.
"""

from __future__ import annotations

import importlib.util
import math
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from gapsearch.errors import UserError
from gapsearch.spec.data import DirectoryData
from gapsearch.spec.hyperparameters import (
    FIXED_ONLY_NAMES,
    HYPERPARAMETER_NAMES,
    INTEGER_NAMES,
    NUMERIC_NAMES,
    Hyperparameters,
)
from gapsearch.spec.messages import describe, did_you_mean
from gapsearch.spec.metrics import COSTS, METRIC_DIRECTIONS
from gapsearch.spec.pruners import COSTS_KNOWN_BEFORE_TRAINING
from gapsearch.spec.space import Choice, Range
from gapsearch.spec.study import StudySpec

Problem = tuple[str, str]


def _choice_path(name: str, raw: Mapping[str, Any], index: int | None = None) -> str:
    entry = raw.get("search_space", {}).get(name)
    base = f"search_space.{name}" if isinstance(entry, list) else f"search_space.{name}.choices"
    return base if index is None else f"{base}[{index}]"


def _value_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not allowed for hyperparameter ``name`` (its type and bounds), or None."""
    try:
        Hyperparameters.model_validate({name: value})
    except ValidationError as error:
        return describe(error.errors(include_url=False)[0])
    return None


def _is_int(name: str) -> bool:
    return name in INTEGER_NAMES


def _is_numeric(name: str) -> bool:
    return name in NUMERIC_NAMES


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
            problem = _value_problem(name, value)
            if problem:
                yield _choice_path(name, raw, index), problem
        repeated = sorted({repr(v) for v in param.choices if param.choices.count(v) > 1})
        if repeated:
            yield _choice_path(name, raw), f"lists {', '.join(repeated)} more than once"


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
        if not _is_numeric(name):
            allowed = ", ".join(_allowed_values(Hyperparameters.model_fields[name].annotation))
            yield path, f"a range needs a numeric hyperparameter; give a list of choices from {allowed}"
            continue
        fractional = set()
        if _is_int(name):
            for key in ("low", "high", "step"):
                value = getattr(param, key)
                if value is not None and not float(value).is_integer():
                    fractional.add(key)
                    yield f"{path}.{key}", f"{name} is an integer, but got {value!r}"
        for key in ("low", "high"):
            value = getattr(param, key)
            if key in fractional:
                continue
            problem = _value_problem(name, int(value) if _is_int(name) else value)
            if problem:
                yield f"{path}.{key}", problem
        if param.low > param.high:
            yield path, f"low <= high must hold, but got (low={_num(param.low)}, high={_num(param.high)})"
        if param.log and param.step is not None:
            yield path, "log and step cannot be used together; drop one of them"
        if param.log and param.low <= 0:
            yield f"{path}.low", f"a log range needs low > 0, but got {_num(param.low)}"


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


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


def check_objective_form(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    single = [key for key in ("metric", "direction") if key in raw]
    if spec.objectives is not None and single:
        yield "objectives", f"give either objectives or metric and direction, not both (remove {' and '.join(single)})"
    elif spec.objectives is None and not single:
        yield "metric", "required key missing; give metric and direction, or objectives: [{metric, direction}, ...]"
    elif spec.objectives is None and len(single) == 1:
        missing = "direction" if "metric" in single else "metric"
        yield missing, "required key missing"


def check_metric_direction(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    pairs: list[tuple[str, str, str]] = []
    if spec.objectives is None:
        if spec.metric is not None and spec.direction is not None:
            pairs = [("direction", spec.metric, spec.direction)]
    else:
        pairs = [(f"objectives[{i}].direction", o.metric, o.direction) for i, o in enumerate(spec.objectives)]
    for path, metric, direction in pairs:
        if metric not in METRIC_DIRECTIONS:
            yield (
                path.replace("direction", "metric"),
                f"{metric!r} is not a measured quantity; " + did_you_mean(metric, METRIC_DIRECTIONS),
            )
            continue
        expected = METRIC_DIRECTIONS[metric]
        if direction != expected:
            yield path, f"{direction!r} with metric {metric!r} would pick the worst trials; expected {expected!r}"


def check_objectives(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    if spec.objectives is None:
        return
    names = [o.metric for o in spec.objectives]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        yield "objectives", f"names {', '.join(repr(n) for n in repeated)} more than once"
    if all(name in COSTS for name in names):
        training = ", ".join(repr(m) for m in METRIC_DIRECTIONS if m not in COSTS)
        yield "objectives", f"needs a training metric ({training}) besides the costs, to train and stop early by"


def check_pruner_with_objectives(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    count = len(spec.objectives or ())
    if spec.pruner.type == "cost_aware":
        yield from _cost_aware_problems(spec, count)
    elif count > 1 and spec.pruner.type != "none":
        yield (
            "pruner.type",
            f"{spec.pruner.type!r} cannot prune a study with {count} objectives (Optuna prunes one objective only); "
            "remove pruner or use {type: none}; early stopping still applies",
        )
    if count > 1 and spec.sampler.type == "cmaes":
        yield "sampler.type", f"'cmaes' optimizes one objective, not {count}; use 'tpe', 'nsga2' or 'gp'"


def _cost_aware_problems(spec: StudySpec, count: int) -> Iterator[Problem]:
    if count < 2:
        yield (
            "pruner.type",
            f"'cost_aware' prunes studies with several objectives, but this one has {max(count, 1)}; "
            "use 'median', 'percentile', 'successive_halving', 'hyperband' or 'wilcoxon'",
        )
        return
    known = ", ".join(COSTS_KNOWN_BEFORE_TRAINING)
    if not any(name in COSTS_KNOWN_BEFORE_TRAINING for name in spec.objective_names):
        yield (
            "pruner.type",
            "'cost_aware' compares a trial with trials that cost no more, so an objective must be a cost known "
            f"before training ({known}), but got {', '.join(spec.objective_names)}",
        )


def check_constraints(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for name in spec.constraints:
        if name not in METRIC_DIRECTIONS:
            yield f"constraints.{name}", "not a measured quantity; " + did_you_mean(name, METRIC_DIRECTIONS)


def check_grid(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    if spec.sampler.type != "grid":
        return
    if not spec.search_space:
        yield "search_space", "the grid sampler needs at least one parameter to search"
    for name, param in spec.search_space.items():
        if param.when:
            yield f"search_space.{name}.when", "the grid sampler cannot search conditional parameters"
        if isinstance(param, Range) and param.step is None and not (name in HYPERPARAMETER_NAMES and _is_int(name)):
            yield f"search_space.{name}", "the grid sampler needs a finite set of values: give a step or a list"


_SAMPLER_NEEDS = {"gp": ("torch", "scipy"), "cmaes": ("cmaes",), "qmc": ("scipy",)}


def check_sampler_packages(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    for package in _SAMPLER_NEEDS.get(spec.sampler.type, ()):
        if importlib.util.find_spec(package) is None:
            yield (
                "sampler.type",
                f"{spec.sampler.type!r} needs the {package} package (pip install {package}); or use 'tpe'",
            )


def check_backend_options(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Options the Keras backend in use cannot honour (PyTorch's trainer runs one step per call)."""
    from gapsearch.runtime import configured_backend

    if configured_backend() != "torch":
        return
    accepted = "1 or 'auto' (the PyTorch backend runs one step per call)"
    if "steps_per_execution" in spec.model.model_fields_set and spec.model.steps_per_execution not in (1, "auto"):
        yield "model.steps_per_execution", f"{spec.model.steps_per_execution!r} is not allowed; expected {accepted}"
    entry = spec.search_space.get("steps_per_execution")
    if entry is not None:
        yield _choice_path("steps_per_execution", raw), f"cannot be searched under PyTorch; expected {accepted}"


def _values(spec: StudySpec, name: str) -> list[Any]:
    """The values ``name`` can take in the study: its choices, a range's ends, or its fixed value."""
    param = spec.search_space.get(name)
    if param is None:
        return [getattr(spec.model, name)]
    if isinstance(param, Choice):
        return list(param.choices)
    return [param.low, param.high]


def _where(spec: StudySpec, name: str) -> str:
    return f"search_space.{name}" if name in spec.search_space else f"model.{name}"


def _given(spec: StudySpec, name: str) -> bool:
    return name in spec.search_space or name in spec.model.model_fields_set


def check_kernel_sizes(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """``kernel_sizes`` replaces ``kernel_size`` and needs the conv1d encoder."""
    if not _given(spec, "kernel_sizes"):
        return
    path = _where(spec, "kernel_sizes")
    if _given(spec, "kernel_size"):
        yield path, (
            f"kernel_size and kernel_sizes exclude each other (both given, {_where(spec, 'kernel_size')} too); "
            "give one width as kernel_size or several as kernel_sizes"
        )
    others = [encoder for encoder in _values(spec, "encoder") if encoder != "conv1d"]
    if others:
        yield path, f"needs encoder: conv1d, but encoder can be {others[0]!r}; widths only apply to convolutions"


def check_flatten(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Flattening needs every batch at the full ``sequence_length``: its weights are per position."""
    if "flatten" not in _values(spec, "pooling"):
        return
    buckets = [b for b in _values(spec, "length_buckets") if b]
    if buckets:
        yield _where(spec, "length_buckets"), (
            f"{_num(buckets[0])} cannot be used with pooling: flatten, whose weights are per position and need "
            "every batch padded to sequence_length; expected 0"
        )


def check_embedding(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Pre-trained vectors: the file exists, its first lines read, and embedding_dim is its dimension."""
    embedding = spec.model.embedding
    if embedding is None:
        return
    from gapsearch.data.vectors import vectors_dimension

    path = spec.base_dir / embedding.vectors
    if not path.is_file():
        yield "model.embedding.vectors", f"no such file {embedding.vectors!r} (looked in {spec.base_dir})"
        return
    try:
        dimension = vectors_dimension(path)
    except UserError as error:
        yield "model.embedding.vectors", str(error)
        return
    if "embedding_dim" in spec.search_space:
        yield "search_space.embedding_dim", (
            f"cannot be searched with model.embedding: the vectors in {embedding.vectors} have dimension {dimension}"
        )
    elif "embedding_dim" in spec.model.model_fields_set and spec.model.embedding_dim != dimension:
        yield "model.embedding_dim", (
            f"{spec.model.embedding_dim} disagrees with the vectors in {embedding.vectors}, which have dimension "
            f"{dimension}; expected {dimension} or leave embedding_dim out"
        )


def check_data_files(spec: StudySpec, raw: Mapping[str, Any]) -> Iterator[Problem]:
    data = spec.data
    if not hasattr(data, "paths"):
        return  # synthetic and Keras' built-in sets
    folder = isinstance(data, DirectoryData)
    for key, relative in data.paths().items():
        path = spec.base_dir / relative
        if set("*?[") & set(relative):
            continue  # a glob: the reader says when nothing matches
        if folder and not path.is_dir():
            yield f"data.{key}", f"no such folder {relative!r} (looked in {spec.base_dir})"
        elif not folder and not path.exists():
            yield f"data.{key}", f"no such file {relative!r} (looked in {spec.base_dir})"


CHECKS: tuple[Callable[[StudySpec, Mapping[str, Any]], Iterator[Problem]], ...] = (
    check_search_space_names,
    check_fixed_only,
    check_fixed_or_searched,
    check_choices,
    check_ranges,
    check_conditions,
    check_objective_form,
    check_metric_direction,
    check_objectives,
    check_pruner_with_objectives,
    check_constraints,
    check_grid,
    check_sampler_packages,
    check_backend_options,
    check_data_files,
    check_kernel_sizes,
    check_flatten,
    check_embedding,
)


def run_checks(spec: StudySpec, raw: Mapping[str, Any]) -> list[Problem]:
    """Every problem every check finds, in check order."""
    return [problem for check in CHECKS for problem in check(spec, raw)]


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
        if param.step is None and not _is_int(name):
            return math.inf
        step = param.step or 1
        return (math.floor((param.high - param.low) / step + 1e-9) + 1) * count(index + 1, values)

    total = count(0, dict(spec.fixed))
    return total if total == math.inf else int(total)
