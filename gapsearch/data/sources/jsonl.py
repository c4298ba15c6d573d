"""JSON Lines: one JSON object per line, with a text field and a label field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gapsearch.data.sources._base import Collector, decode
from gapsearch.errors import DataError
from gapsearch.spec.data import JsonLinesData

SUFFIXES = (".jsonl", ".ndjson", ".json")


def read_into(collector: Collector, path: Path, spec: JsonLinesData) -> None:
    """Adds the objects of one file to ``collector``; blank lines are skipped."""
    for where, record in objects(path, decode(path, spec.encoding)):
        for field in (spec.text, spec.label):
            if field not in record:
                fields = ", ".join(repr(name) for name in record) or "none"
                raise DataError(f"{where}: no field {field!r}; the fields are {fields}")
        collector.add(record[spec.text], record[spec.label], where)


def objects(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of a file's ``text``, each with where it is (``path, line N``); blank lines are skipped.

    Raises:
        DataError: a line that is not valid JSON, or not an object.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected a JSON object with fields, but got {type(record).__name__}")
        yield where, record
