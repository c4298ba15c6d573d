"""Reading a study's examples, one module per source format; :func:`read_source` picks by the spec's class.

Each reader turns its files into :class:`Examples` (texts, labels as read, and where each example
is, for messages). Nothing here splits, infers the task or vectorizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gapsearch.data.sources import class_files, delimited, directory, jsonl, keras_builtin, parquet
from gapsearch.data.sources._base import Collector, Examples, Label, expand_paths, format_number
from gapsearch.data.splits import stratified_split
from gapsearch.data.synthetic import make_synthetic
from gapsearch.spec.data import (
    ClassFilesData,
    DataSpec,
    DelimitedData,
    DirectoryData,
    JsonLinesData,
    KerasData,
    ParquetData,
    SyntheticData,
)

SPLITS = ("train", "validation", "test")


@dataclass
class RawData:
    """What a source holds: train, and validation and test when the source gives them.

    Without a validation split, ``holdout_fraction`` of train is held out with ``holdout_seed``
    (unless the study asks for folds).
    """

    train: Examples
    validation: Examples | None
    test: Examples | None
    holdout_fraction: float
    holdout_seed: int


def read_source(spec: DataSpec, base_dir: Path, seed: int, *, with_test: bool = False) -> RawData:
    """Reads (or generates) the examples ``spec`` describes; the test split only with ``with_test``.

    Raises:
        DataError: one line naming the file, the line or row, and the problem.
    """
    if isinstance(spec, SyntheticData):
        return _synthetic(spec, seed, with_test)
    if isinstance(spec, KerasData):
        keras_train, keras_test = keras_builtin.load(spec)
        return RawData(keras_train, None, keras_test if with_test else None, spec.validation_split, seed)
    if isinstance(spec, ClassFilesData):
        splits = {name: _class_files(spec, base_dir, name) for name in SPLITS if name != "test" or with_test}
    else:
        splits = {name: _files(spec, base_dir, name) for name in SPLITS if name != "test" or with_test}
    train = splits["train"]
    assert train is not None
    return RawData(train, splits["validation"], splits.get("test"), spec.validation_split, seed)


def _files(
    spec: DelimitedData | JsonLinesData | ParquetData | DirectoryData, base_dir: Path, split: str
) -> Examples | None:
    given = getattr(spec, split)
    if given is None:
        return None
    collector = Collector(str(base_dir / given), drop_empty=spec.drop_empty, label_separator=spec.label_separator)
    if isinstance(spec, DirectoryData):
        directory.read_into(collector, base_dir / given, spec)
    elif isinstance(spec, DelimitedData):
        for path in expand_paths(base_dir, given, split, delimited.SUFFIXES):
            delimited.read_into(collector, path, spec)
    elif isinstance(spec, JsonLinesData):
        for path in expand_paths(base_dir, given, split, jsonl.SUFFIXES):
            jsonl.read_into(collector, path, spec)
    else:
        for path in expand_paths(base_dir, given, split, parquet.SUFFIXES):
            parquet.read_into(collector, path, spec)
    return collector.result()


def _class_files(spec: ClassFilesData, base_dir: Path, split: str) -> Examples | None:
    files: dict[str, str] | None = getattr(spec, split)
    if files is None:
        return None
    collector = Collector(
        f"data.{split} ({', '.join(files.values())})", drop_empty=spec.drop_empty, label_separator=None
    )
    for class_name, given in files.items():
        for path in expand_paths(base_dir, given, f"{split}.{class_name}", (".txt",)):
            class_files.read_into(collector, path, class_name, spec.encoding)
    return collector.result()


def _synthetic(spec: SyntheticData, seed: int, with_test: bool) -> RawData:
    data_seed = seed if spec.seed is None else spec.seed
    texts, labels = make_synthetic(spec.n_examples, spec.n_classes, data_seed, spec.min_length, spec.max_length)
    remaining = np.arange(len(texts))
    test = None
    if spec.test_split > 0:
        remaining, test_indices = stratified_split(labels, spec.test_split, data_seed)
        test = _subset("synthetic test split", texts, labels, test_indices) if with_test else None
    # The validation share is of all examples, so it is a larger share of what the test split left.
    return RawData(
        _subset("synthetic data", texts, labels, remaining),
        None,
        test,
        spec.validation_split / (1.0 - spec.test_split),
        data_seed + 1,
    )


def _subset(source: str, texts: list[str], labels: list[str], indices: np.ndarray) -> Examples:
    chosen = indices.tolist()
    return Examples(
        source,
        [texts[i] for i in chosen],
        [labels[i] for i in chosen],
        [f"{source}, example {i + 1}" for i in chosen],
    )


__all__ = ["SPLITS", "Collector", "Examples", "Label", "RawData", "format_number", "read_source"]
