"""Reading labelled texts from CSV and TSV files.

The whole file is decoded in Python first, so a wrong encoding is reported with its line and
byte instead of surfacing halfway through parsing. Line breaks are ``\\n``, ``\\r\\n`` or ``\\r``
only: control characters such as U+0085 (byte 0x85 in latin-1, which the MR files hold inside
their lines) do not end a row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from gapsearch.errors import DataError
from gapsearch.spec.data import DelimitedData

if TYPE_CHECKING:
    import _csv

_DELIMITERS = {"csv": ",", "tsv": "\t"}
_DEFAULT_QUOTING = {"csv": "minimal", "tsv": "none"}


class DelimitedRows(NamedTuple):
    """The examples of one file; ``line_numbers[i]`` is the 1-based line where example ``i`` starts."""

    texts: list[str]
    labels: list[str]
    line_numbers: list[int]


def read_delimited(path: Path, spec: DelimitedData) -> tuple[list[str], list[str]]:
    """Reads the texts (as written) and labels (stripped) of one delimited file.

    Raises:
        DataError: the file is missing, cannot be decoded, lacks a column, or has a row with too
            few fields, an empty text or a missing label, or no rows at all.
    """
    rows = read_delimited_rows(path, spec)
    return rows.texts, rows.labels


def read_delimited_rows(path: Path, spec: DelimitedData) -> DelimitedRows:
    """Like :func:`read_delimited`, and also says on which line each example starts."""
    file_format = spec.resolved_format()
    delimiter = spec.delimiter or _DELIMITERS[file_format]
    quote_literally = (spec.quoting or _DEFAULT_QUOTING[file_format]) == "none"
    quoting: Literal[0, 3] = csv.QUOTE_NONE if quote_literally else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(_decode(path, spec.encoding), newline=""), delimiter=delimiter, quoting=quoting)

    rows = DelimitedRows([], [], [])
    # Without a header the spec holds column numbers; with one, the header turns names into numbers.
    columns = None if spec.header else (_column_index(path, [], spec.text), _column_index(path, [], spec.label))
    for line, fields in _records(reader, path):
        if columns is None:
            columns = (_column_index(path, fields, spec.text), _column_index(path, fields, spec.label))
            continue
        text_column, label_column = columns
        needed = max(text_column, label_column) + 1
        if len(fields) < needed:
            raise DataError(f"{path}, line {line}: expected at least {needed} fields, found {len(fields)}")
        text, label = fields[text_column], fields[label_column].strip()
        if not text.strip():
            raise DataError(f"{path}, line {line}: empty text")
        if not label:
            raise DataError(f"{path}, line {line}: missing label")
        rows.texts.append(text)
        rows.labels.append(label)
        rows.line_numbers.append(line)
    if not rows.texts:
        raise DataError(f"{path}: no examples")
    return rows


def _decode(path: Path, encoding: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror})") from None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(
            f"{path}: unknown encoding {encoding!r}; set data.encoding, for example to utf-8 or latin-1"
        ) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        offset = error.start - (raw.rfind(b"\n", 0, error.start) + 1)
        raise DataError(
            f"{path}, line {line}: cannot decode the bytes as {encoding} "
            f"(byte 0x{raw[error.start]:02x} at offset {offset} in the line); set data.encoding, for example to latin-1"
        ) from None
    return text.removeprefix("\ufeff")  # a byte order mark is not part of the first column's name


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


def _column_index(path: Path, header: list[str], column: str | int) -> int:
    if isinstance(column, int):
        return column
    names = [name.strip() for name in header]
    if column not in names:
        raise DataError(f"{path}: no column {column!r}; the columns are {', '.join(map(repr, names))}")
    return names.index(column)
