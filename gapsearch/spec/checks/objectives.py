"""Checks of what the study optimizes: the objective's form, metrics and directions, pruner and constraints."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gapsearch.spec.checks._common import Problem
from gapsearch.spec.messages import did_you_mean
from gapsearch.spec.metrics import COSTS, METRIC_DIRECTIONS
from gapsearch.spec.pruners import COSTS_KNOWN_BEFORE_TRAINING
from gapsearch.spec.study import StudySpec


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
