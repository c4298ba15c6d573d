"""A data file's columns, summarised, and which of them hold the text and the label (for ``gapsearch init``).

It reads one CSV, TSV, JSON Lines or Parquet file, the formats the data section reads from a single
file, with the same readers (:mod:`gapsearch.data.sources`): UTF-8, else latin-1 (which decodes any
bytes). The text column is the column of strings with the longest values on average; the label column,
among the others, the one with few distinct values. Where that does not decide, the error lists the
columns and asks for ``--text`` or ``--label``: a guess that could be wrong is not made.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gapsearch.data.sources import delimited, jsonl
from gapsearch.data.sources._base import decode, format_number, read_bytes
from gapsearch.errors import DataError
from gapsearch.spec.data import FILE_EXTENSIONS, DelimitedData, format_of_path

#: Rows read to summarise the columns: enough to meet every class of a labelled file.
SAMPLE_ROWS = 10_000
#: A column with more distinct values than this is not taken for the label (nor with more than half the rows).
MAX_CLASSES = 100
#: Names that settle which of several columns with few distinct values is the label.
LABEL_NAMES = frozenset({"label", "labels", "class", "category", "target", "sentiment", "y"})
#: Two text columns whose mean lengths are this close are too close to choose between.
TEXT_LENGTH_MARGIN = 0.9


@dataclass(frozen=True)
class Column:
    """What one column holds, over the rows read."""

    name: str
    values: int  # rows with a value (empty strings and nulls aside)
    empty: int  # rows without one
    distinct: int
    strings: bool  # every value is a string that is not a number
    numbers: bool  # every value is a number
    fractions: bool  # some number has a fraction (a regression target, as the data section infers)
    mean_length: float  # characters per string value; 0 for other values
    examples: tuple[str, ...]  # up to three distinct values, as written, for messages

    def label_like(self, rows: int) -> bool:
        """Few distinct values: from 2 to ``MAX_CLASSES``, and at most half the rows."""
        return 2 <= self.distinct <= min(MAX_CLASSES, max(2, rows // 2))

    def text_like(self, rows: int) -> bool:
        return self.strings and self.values > 0 and not self.label_like(rows)

    def describe(self) -> str:
        """``'review' (300 distinct, 112 characters on average)``, for messages."""
        length = f", {self.mean_length:.0f} characters on average" if self.strings else ""
        return f"{self.name!r} ({self.distinct} distinct{length})"


@dataclass(frozen=True)
class DataFile:
    """A data file, its format and encoding as the data section would name them, and its columns."""

    path: Path
    format: str  # csv, tsv, jsonl or parquet
    encoding: str | None  # None for Parquet, which says its own
    rows: int  # rows read, at most SAMPLE_ROWS
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)

    def listing(self) -> str:
        return ", ".join(column.describe() for column in self.columns)


def read_columns(path: Path) -> DataFile:
    """The columns of the data file ``path``, summarised over its first ``SAMPLE_ROWS`` rows.

    Raises:
        DataError: the file is missing or a folder, its extension is not one the data section reads from a
            single file, or it cannot be parsed (the line and the problem).
    """
    if path.is_dir():
        raise DataError(
            f"{path}: is a folder; gapsearch init reads one data file (a folder with one sub-folder per class "
            "needs no columns: write data.train: FOLDER in a study file)"
        )
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() not in FILE_EXTENSIONS:
        accepted = ", ".join(FILE_EXTENSIONS)
        found = repr(path.suffix) if path.suffix else "none"
        raise DataError(f"{path}: the extension names the format; expected {accepted}, but got {found}")
    file_format = format_of_path(path.name)
    if file_format == "parquet":
        names, records = _parquet_records(path)
        return _summarise(path, file_format, None, names, records)
    raw = read_bytes(path)
    try:
        raw.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    text = decode(path, encoding, raw)
    if file_format == "jsonl":
        objects = [record for _, record in _first(jsonl.objects(path, text))]
        names = list(dict.fromkeys(name for record in objects for name in record))
        return _summarise(path, file_format, encoding, names, [[o.get(n) for n in names] for o in objects])
    rows = delimited.rows(path, DelimitedData(train=path.name, encoding=encoding), text)
    header = next(rows, None)
    if header is None:
        raise DataError(f"{path}: no rows")
    names = [name.strip() for name in header[1]]
    records = [fields[: len(names)] + [None] * (len(names) - len(fields)) for _, fields in _first(rows)]
    return _summarise(path, file_format, encoding, names, records)


def choose_columns(data: DataFile, *, text: str | None = None, label: str | None = None) -> tuple[Column, Column]:
    """The text and the label columns: those named, else found as the module says.

    Raises:
        DataError: a named column is missing, both options name one column, or the columns do not decide;
            the message lists the columns.
    """
    for option, name in (("--text", text), ("--label", label)):
        if name is not None and data.column(name) is None:
            raise DataError(f"{data.path}: no column {name!r} ({option}); the columns are {data.listing()}")
    if text is not None and text == label:
        raise DataError(f"{data.path}: --text and --label both name {text!r}; the columns are {data.listing()}")
    text_column = data.column(text) if text is not None else _find_text(data, label)
    label_column = data.column(label) if label is not None else None
    assert text_column is not None
    return text_column, label_column or _find_label(data, text_column.name)


def _find_text(data: DataFile, label: str | None) -> Column:
    candidates = sorted(
        (c for c in data.columns if c.name != label and c.text_like(data.rows)),
        key=lambda column: -column.mean_length,
    )
    if not candidates:
        raise DataError(
            f"{data.path}: no column holds texts (strings, not numbers, mostly distinct); the columns are "
            f"{data.listing()}; name the text column with --text"
        )
    if len(candidates) > 1 and candidates[1].mean_length >= TEXT_LENGTH_MARGIN * candidates[0].mean_length:
        close = " and ".join(column.describe() for column in candidates[:2])
        raise DataError(f"{data.path}: cannot tell the text column: {close} hold texts as long; name it with --text")
    return candidates[0]


def _find_label(data: DataFile, text: str) -> Column:
    candidates = [c for c in data.columns if c.name != text and c.label_like(data.rows)]
    if len(candidates) > 1:
        named = [column for column in candidates if column.name.lower() in LABEL_NAMES]
        if len(named) != 1:
            listed = ", ".join(column.describe() for column in candidates)
            raise DataError(f"{data.path}: cannot tell the label column among {listed}; name it with --label")
        return named[0]
    if not candidates:
        limit = min(MAX_CLASSES, max(2, data.rows // 2))
        raise DataError(
            f"{data.path}: no column besides {text!r} has few distinct values (2 to {limit}) to be the label; "
            f"the columns are {data.listing()}; name the label column with --label"
        )
    return candidates[0]


def _first(records: Iterator[Any]) -> Iterator[Any]:
    for count, record in enumerate(records):
        if count == SAMPLE_ROWS:
            return
        yield record


def _parquet_records(path: Path) -> tuple[list[str], list[list[Any]]]:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        batch = next(file.iter_batches(batch_size=SAMPLE_ROWS), None)
    except OSError as error:  # pyarrow's ArrowInvalid for a file that is not Parquet is an OSError too
        raise DataError(f"{path}: not a readable Parquet file ({str(error).splitlines()[0]})") from None
    names = list(file.schema_arrow.names)
    if batch is None:
        return names, []
    columns = [batch.column(name).to_pylist() for name in names]
    return names, [list(row) for row in zip(*columns, strict=True)]


def _summarise(
    path: Path, file_format: str, encoding: str | None, names: list[str], records: Sequence[Sequence[Any]]
) -> DataFile:
    if not records:
        below = f" below the column names {', '.join(map(repr, names))}" if names else ""
        raise DataError(f"{path}: no rows{below}")
    if len(names) < 2:
        found = ", ".join(map(repr, names))
        raise DataError(
            f"{path}: found one column ({found}); a text and a label column are needed"
            + (f" (is the file {file_format.upper()}, as its extension says?)" if file_format in ("csv", "tsv") else "")
        )
    columns = tuple(_column(name, [record[i] for record in records]) for i, name in enumerate(names))
    return DataFile(path, file_format, encoding, len(records), columns)


def _column(name: str, cells: list[Any]) -> Column:
    present = [cell for cell in cells if not _missing(cell)]
    keys = [_key(cell) for cell in present]
    numbers = [_number(cell) for cell in present]
    strings = [cell for cell, number in zip(present, numbers, strict=True) if isinstance(cell, str) and number is None]
    return Column(
        name=name,
        values=len(present),
        empty=len(cells) - len(present),
        distinct=len(set(keys)),
        strings=bool(present) and len(strings) == len(present),
        numbers=bool(present) and all(number is not None for number in numbers),
        fractions=any(number is not None and not number.is_integer() for number in numbers),
        mean_length=sum(map(len, strings)) / len(strings) if strings else 0.0,
        examples=tuple(dict.fromkeys(keys))[:3],
    )


def _missing(cell: Any) -> bool:
    if isinstance(cell, str):
        return not cell.strip()
    return cell is None or (isinstance(cell, float) and math.isnan(cell))


def _number(cell: Any) -> float | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return float(cell)
    if isinstance(cell, str):
        try:
            value = float(cell)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    return None


def _key(cell: Any) -> str:
    if isinstance(cell, (list, tuple)):
        return "|".join(sorted(str(item) for item in cell))
    number = _number(cell)
    return format_number(number) if number is not None else str(cell).strip()
