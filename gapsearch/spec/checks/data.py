"""Checks of the data section: the files and folders it names exist."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gapsearch.spec.checks._common import Problem
from gapsearch.spec.data import DirectoryData
from gapsearch.spec.study import StudySpec


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
