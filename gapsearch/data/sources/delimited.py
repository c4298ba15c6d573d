"""CSV and TSV files with a text column and a label column.

The whole file is decoded in Python first, so a wrong encoding is reported with its line and
byte instead of surfacing halfway through parsing. Line breaks are ``\\n``, ``\\r\\n`` or ``\\r``
only: control characters such as U+0085 (byte 0x85 in latin-1, which the MR files hold inside
their lines) do not end a row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gapsearch.data.sources._base import Collector, Examples, decode
from gapsearch.errors import DataError
from gapsearch.spec.data import DelimitedData

if TYPE_CHECKING:
    import _csv

SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
_DELIMITERS = {"csv": ",", "tsv": "\t"}
_DEFAULT_QUOTING = {"csv": "minimal", "tsv": "none"}


def read_delimited(path: Path, spec: DelimitedData) -> tuple[list[str], list[str]]:
    """Reads the texts (as written) and labels (stripped) of one delimited file.

    Raises:
        DataError: the file is missing, cannot be decoded, lacks a column, or has a row with too
            few fields, an empty text or a missing label, or no rows at all.
    """
    examples = read_delimited_file(path, spec)
    return examples.texts, [str(label) for label in examples.labels]


def read_delimited_file(path: Path, spec: DelimitedData) -> Examples:
    """The examples of one file; each location is ``path, line N`` (the line the row starts on)."""
    collector = Collector(str(path), drop_empty=spec.drop_empty, label_separator=spec.label_separator)
    read_into(collector, path, spec)
    return collector.result()


def read_into(collector: Collector, path: Path, spec: DelimitedData) -> None:
    """Adds the rows of one file to ``collector``."""
    # Without a header the spec holds column numbers; with one, the header turns names into numbers.
    columns = None if spec.header else _columns(path, [], spec)
    for line, fields in rows(path, spec):
        if columns is None:
            columns = _columns(path, fields, spec)
            continue
        text_column, label_column = columns
        needed = max(text_column, label_column) + 1
        if len(fields) < needed:
            raise DataError(f"{path}, line {line}: expected at least {needed} fields, found {len(fields)}")
        collector.add(fields[text_column], fields[label_column], f"{path}, line {line}")


def rows(path: Path, spec: DelimitedData, text: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows of one file (its header too), split as ``spec`` says, each with the line it starts on.

    ``text`` is the file's text when the caller has decoded it already.
    """
    file_format = spec.resolved_format()
    delimiter = spec.delimiter or _DELIMITERS[file_format]
    quote_literally = (spec.quoting or _DEFAULT_QUOTING[file_format]) == "none"
    quoting: Literal[0, 3] = csv.QUOTE_NONE if quote_literally else csv.QUOTE_MINIMAL
    if text is None:
        text = decode(path, spec.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    return _records(reader, path)


def _records(reader: _csv.Reader, path: Path) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows, each with the line it starts on."""
    lines_read = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataError(f"{path}, line {reader.line_num}: {error}") from None
        start, lines_read = lines_read + 1, reader.line_num
        if fields:
            yield start, fields


def _columns(path: Path, header: list[str], spec: DelimitedData) -> tuple[int, int]:
    """The indexes of the text and the label column in ``header``."""
    return _column_index(path, header, spec.text, "text"), _column_index(path, header, spec.label, "label")


def _column_index(path: Path, header: list[str], column: str | int, key: str) -> int:
    """The index of ``column`` (the study file's ``data.KEY``) in ``header``."""
    if isinstance(column, int):
        return column
    names = [name.strip() for name in header]
    if column not in names:
        raise DataError(f"{path}: no column {column!r} (data.{key}); the columns are {', '.join(map(repr, names))}")
    return names.index(column)
