"""Cross-field checks of a study file that pydantic's per-field types cannot express.

Each check is a small named function that yields ``(key path, problem)`` pairs, in a module per subject:
:mod:`.search_space` (names, choices, ranges, conditions, the grid), :mod:`.objectives` (metrics,
directions, pruner, constraints), :mod:`.model` (options that depend on each other), :mod:`.data`
(files that must exist) and :mod:`.environment` (packages and the Keras backend). :mod:`.order` holds
the sampling order and the size of the space, which the search and ``describe`` use too; ``_common``
what the checks share. The modules import only :mod:`gapsearch.spec`'s sections, its messages and
``_common``/``order``, never each other otherwise. :func:`run_checks` runs every check so that a user
sees every mistake at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gapsearch.spec.checks._common import Problem
from gapsearch.spec.checks.data import check_data_files
from gapsearch.spec.checks.environment import check_backend_options, check_sampler_packages
from gapsearch.spec.checks.model import check_embedding, check_flatten, check_kernel_sizes
from gapsearch.spec.checks.objectives import (
    check_constraints,
    check_metric_direction,
    check_objective_form,
    check_objectives,
    check_pruner_with_objectives,
)
from gapsearch.spec.checks.order import sampling_order, space_size
from gapsearch.spec.checks.search_space import (
    check_choices,
    check_conditions,
    check_fixed_only,
    check_fixed_or_searched,
    check_grid,
    check_ranges,
    check_search_space_names,
)
from gapsearch.spec.study import StudySpec

__all__ = ["CHECKS", "Problem", "run_checks", "sampling_order", "space_size"]

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
