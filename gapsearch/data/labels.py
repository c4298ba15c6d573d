"""The task and its labels: inferred from (or checked against) the training labels, then encoded as arrays.

Inference, when ``task: auto``: any label that is a list makes the task ``multilabel``; labels that
are all numbers, at least one with a fraction, make it ``regression``; otherwise each distinct label
is a class: two make it ``binary``, more ``multiclass``. Integer ratings (1 to 10) are classes
unless the study says ``task: regression``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from gapsearch.data.sources._base import Examples, Label, format_number
from gapsearch.errors import DataError

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class LabelEncoding:
    """The task and its class names (none for regression), and how labels become ``y`` arrays.

    ``y`` is int32 class ids (binary, multiclass), a float32 multi-hot matrix (multilabel) or
    float32 targets (regression).
    """

    task: str
    class_names: tuple[str, ...]
    inferred: bool

    def describe(self) -> str:
        """``binary (inferred from 2 labels in train: '0', '1')``, for ``gapsearch validate`` and ``data``."""
        how = "inferred" if self.inferred else "declared"
        if self.task == "regression":
            return f"regression ({how}: numeric targets)"
        unit = "labels" if self.task == "multilabel" else "classes"
        return f"{self.task} ({how}; {len(self.class_names)} {unit} in train: {quoted(self.class_names)})"

    def encode(self, examples: Examples, *, check_known: bool = True) -> np.ndarray:
        """The ``y`` array of ``examples``; a label unseen in train is an error naming where it is."""
        labels, locations = examples.labels, examples.locations
        if self.task == "regression":
            return np.asarray(
                [_number(label, where) for label, where in zip(labels, locations, strict=True)], dtype=np.float32
            )
        ids = {name: i for i, name in enumerate(self.class_names)}

        def class_id(name: str, where: str) -> int:
            if name not in ids:
                raise DataError(
                    f"{where}: label {name!r} does not occur in the training data "
                    f"(labels there: {quoted(self.class_names)})"
                )
            return ids[name]

        if self.task == "multilabel":
            y = np.zeros((len(labels), len(self.class_names)), dtype=np.float32)
            for row, (label, where) in enumerate(zip(labels, locations, strict=True)):
                for name in _names(label):
                    y[row, class_id(name, where)] = 1.0
            return y
        return np.fromiter(
            (class_id(_name(label), where) for label, where in zip(labels, locations, strict=True)),
            dtype=np.int32,
            count=len(labels),
        )

    def stratification_keys(self, y: np.ndarray) -> list[str]:
        """What a stratified split balances: the class for binary and multiclass; nothing otherwise."""
        if self.task in ("binary", "multiclass"):
            return [str(i) for i in y.tolist()]
        return ["all"] * len(y)


def label_encoding(train: Examples, declared: str = "auto") -> LabelEncoding:
    """The task and class names from the training labels, or a check that they fit the declared task.

    Raises:
        DataError: a single class, a non-numeric regression target, or a binary task with more classes.
    """
    labels = train.labels
    if declared == "multilabel" or (declared == "auto" and any(isinstance(label, tuple) for label in labels)):
        names = sorted_labels({name for label in labels for name in _names(label)})
        return LabelEncoding("multilabel", names, declared == "auto")
    if declared == "regression":
        for label, where in zip(labels, train.locations, strict=True):
            _number(label, where)
        return LabelEncoding("regression", (), False)
    numeric = declared == "auto" and all(_is_number(label) for label in labels)
    if numeric and any(not float(label).is_integer() for label in labels):  # type: ignore[arg-type]
        return LabelEncoding("regression", (), True)
    for label, where in zip(labels, train.locations, strict=True):
        if isinstance(label, tuple):
            raise DataError(f"{where}: label {list(label)!r} is a list; a {declared} task has one label per example")
    names = sorted_labels({_name(label) for label in labels})
    if len(names) < 2:
        raise DataError(
            f"{train.source}: only one class ({names[0]!r}) in the training data; a classifier needs at least 2"
        )
    if declared == "binary" and len(names) != 2:
        raise DataError(
            f"{train.source}: task 'binary' needs 2 classes, but the training data has {len(names)} "
            f"({quoted(names)}); set data.task: multiclass"
        )
    task = declared if declared != "auto" else ("binary" if len(names) == 2 else "multiclass")
    return LabelEncoding(task, names, declared == "auto")


def _is_number(label: Label) -> bool:
    return isinstance(label, float) or (isinstance(label, str) and _NUMBER.fullmatch(label) is not None)


def _number(label: Label, where: str) -> float:
    if not _is_number(label):
        raise DataError(f"{where}: label {label!r} is not a number; task 'regression' needs numeric labels")
    return float(label)  # type: ignore[arg-type]


def _name(label: Label) -> str:
    if isinstance(label, float):
        return format_number(label)
    if isinstance(label, tuple):
        return label[0] if len(label) == 1 else "|".join(label)
    return label


def _names(label: Label) -> tuple[str, ...]:
    return label if isinstance(label, tuple) else (_name(label),)


def sorted_labels(labels: Collection[str]) -> tuple[str, ...]:
    """Labels in order: by value when every label looks like a number ("2" before "10"), else alphabetically."""
    if all(_NUMBER.fullmatch(label) for label in labels):
        return tuple(sorted(labels, key=lambda label: (float(label), label)))
    return tuple(sorted(labels))


def quoted(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"
