"""Checks against the environment the study runs in: the sampler's packages and the Keras backend."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from typing import Any

from gapsearch.spec.checks._common import Problem, choice_path
from gapsearch.spec.study import StudySpec

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
        yield choice_path("steps_per_execution", raw), f"cannot be searched under PyTorch; expected {accepted}"
