"""Parquet files with a text column and a label column, read with pyarrow (only the two columns)."""

from __future__ import annotations

from pathlib import Path

from gapsearch.data.sources._base import Collector
from gapsearch.errors import DataError
from gapsearch.spec.data import ParquetData

SUFFIXES = (".parquet", ".pq")


def read_into(collector: Collector, path: Path, spec: ParquetData) -> None:
    """Adds the rows of one file to ``collector``; rows are numbered from 1 in messages."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        columns = schema.names
        wanted = (("text", spec.text), ("label", spec.label))
        missing = [(key, column) for key, column in wanted if column not in columns]
        if missing:
            key, column = missing[0]
            raise DataError(
                f"{path}: no column {column!r} (data.{key}); the columns are {', '.join(map(repr, columns))}"
            )
        table = pq.read_table(path, columns=[spec.text, spec.label])
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:  # pyarrow's ArrowInvalid for a file that is not Parquet is an OSError too
        raise DataError(f"{path}: not a readable Parquet file ({str(error).splitlines()[0]})") from None
    texts = table.column(spec.text).to_pylist()
    labels = table.column(spec.label).to_pylist()
    for row, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
        collector.add(text, label, f"{path}, row {row}")
