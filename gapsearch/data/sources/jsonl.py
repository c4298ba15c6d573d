"""JSON Lines: one JSON object per line, with a text field and a label field."""

from __future__ import annotations

import json
from pathlib import Path

from gapsearch.data.sources._base import Collector, decode
from gapsearch.errors import DataError
from gapsearch.spec.data import JsonLinesData

SUFFIXES = (".jsonl", ".ndjson", ".json")


def read_into(collector: Collector, path: Path, spec: JsonLinesData) -> None:
    """Adds the objects of one file to ``collector``; blank lines are skipped."""
    for number, line in enumerate(decode(path, spec.encoding).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict):
            raise DataError(f"{where}: expected a JSON object with fields, but got {type(record).__name__}")
        for field in (spec.text, spec.label):
            if field not in record:
                fields = ", ".join(repr(name) for name in record) or "none"
                raise DataError(f"{where}: no field {field!r}; the fields are {fields}")
        collector.add(record[spec.text], record[spec.label], where)
