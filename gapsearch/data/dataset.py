"""A study's data: the train, validation and test texts, and their vectorized form per trial.

:func:`load_splits` reads or generates the texts once; :meth:`TextSplits.vectorize` turns them into
id arrays for one (``max_tokens``, ``sequence_length``) pair and remembers the result, because a
study asks for the same pair in many trials.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Literal

import numpy as np

from gapsearch.data.delimited import DelimitedRows, read_delimited_rows
from gapsearch.data.splits import stratified_split
from gapsearch.data.synthetic import make_synthetic
from gapsearch.data.text import Vocabulary, standardize, tokenize, vectorize
from gapsearch.errors import DataError
from gapsearch.spec.data import DataSpec, DelimitedData, SyntheticData, TextSettings

#: How many vectorized (max_tokens, sequence_length) variants a TextSplits keeps in memory.
VECTORIZED_CACHE_SIZE = 8

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class LabeledTexts:
    """Texts and their labels (strings), in the same order."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(
                f"texts and labels must pair up, but got {len(self.texts)} texts and {len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True, eq=False)
class VectorizedSplits:
    """The train and validation splits as arrays, for one (max_tokens, sequence_length) pair.

    ``x_*`` are int32 id arrays of shape (examples, sequence_length), padded with 0; ``y_*`` are int32
    indices into :attr:`TextSplits.class_names`. The arrays are shared by every trial that asks for the
    same pair: do not modify them.

    Attributes:
        vocabulary: Built from the train split only.
        oov_rate: Share of the train split's tokens outside the vocabulary (cut by ``max_tokens``).
        truncation_rate: Share of the train texts longer than ``sequence_length``, hence cut.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    vocabulary: Vocabulary
    oov_rate: float
    truncation_rate: float

    @property
    def vocabulary_size(self) -> int:
        """Number of ids, padding and out-of-vocabulary included: the embedding's input dimension."""
        return len(self.vocabulary)


@dataclass(frozen=True)
class TextSplits:
    """The texts of a study, split, with the class names and the text settings that apply to them.

    ``class_names`` are the train split's labels, sorted (numerically when all look like numbers);
    a label's class id is its index there.
    """

    train: LabeledTexts
    validation: LabeledTexts
    test: LabeledTexts | None
    class_names: tuple[str, ...]
    settings: TextSettings
    _vocabularies: dict[int, Vocabulary] = field(default_factory=dict, init=False, repr=False, compare=False)
    _vectorized: OrderedDict[tuple[int, int], VectorizedSplits] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    @property
    def task(self) -> Literal["binary", "multiclass"]:
        """``"binary"`` for two classes, else ``"multiclass"``."""
        return "binary" if len(self.class_names) == 2 else "multiclass"

    # cached_property writes to the instance __dict__ directly, so it works on a frozen dataclass.
    @cached_property
    def train_tokens(self) -> list[list[str]]:
        """The train texts, standardized and tokenized (computed once)."""
        return self._tokenize(self.train)

    @cached_property
    def validation_tokens(self) -> list[list[str]]:
        """The validation texts, standardized and tokenized (computed once)."""
        return self._tokenize(self.validation)

    @cached_property
    def test_tokens(self) -> list[list[str]] | None:
        """The test texts, standardized and tokenized (computed once); None without a test split."""
        return None if self.test is None else self._tokenize(self.test)

    @cached_property
    def _train_token_counts(self) -> Counter[str]:
        return Counter(chain.from_iterable(self.train_tokens))

    def vocabulary(self, max_tokens: int) -> Vocabulary:
        """The vocabulary of the train split with at most ``max_tokens`` ids (remembered)."""
        if max_tokens not in self._vocabularies:
            self._vocabularies[max_tokens] = Vocabulary.from_counts(self._train_token_counts, max_tokens)
        return self._vocabularies[max_tokens]

    def vectorize(self, max_tokens: int, sequence_length: int) -> VectorizedSplits:
        """The train and validation splits as id arrays; the same object for the same arguments.

        The last :data:`VECTORIZED_CACHE_SIZE` pairs asked for are kept in memory.
        """
        key = (max_tokens, sequence_length)
        if key in self._vectorized:
            self._vectorized.move_to_end(key)
            return self._vectorized[key]
        vocabulary = self.vocabulary(max_tokens)
        truncation = self.settings.truncation
        counts = self._train_token_counts
        n_tokens = sum(counts.values())
        n_known = sum(counts[token] for token in vocabulary.tokens[2:])
        result = VectorizedSplits(
            x_train=vectorize(self.train_tokens, vocabulary, sequence_length, truncation),
            y_train=self._class_ids(self.train),
            x_validation=vectorize(self.validation_tokens, vocabulary, sequence_length, truncation),
            y_validation=self._class_ids(self.validation),
            vocabulary=vocabulary,
            oov_rate=(n_tokens - n_known) / n_tokens if n_tokens else 0.0,
            truncation_rate=sum(len(tokens) > sequence_length for tokens in self.train_tokens) / len(self.train),
        )
        self._vectorized[key] = result
        if len(self._vectorized) > VECTORIZED_CACHE_SIZE:
            self._vectorized.popitem(last=False)
        return result

    def vectorize_test(self, max_tokens: int, sequence_length: int) -> tuple[np.ndarray, np.ndarray]:
        """The test split as (x_test, y_test), with the train split's vocabulary. Not remembered."""
        if self.test is None or self.test_tokens is None:
            raise DataError("the data has no test split; set data.test (a file) or data.test_split (synthetic data)")
        x_test = vectorize(self.test_tokens, self.vocabulary(max_tokens), sequence_length, self.settings.truncation)
        return x_test, self._class_ids(self.test)

    def _tokenize(self, split: LabeledTexts) -> list[list[str]]:
        return [tokenize(standardize(text, self.settings)) for text in split.texts]

    def _class_ids(self, split: LabeledTexts) -> np.ndarray:
        class_ids = {name: i for i, name in enumerate(self.class_names)}
        return np.fromiter((class_ids[label] for label in split.labels), dtype=np.int32, count=len(split))


def load_splits(spec: DataSpec, base_dir: Path, seed: int) -> TextSplits:
    """Generates or reads the texts the ``data:`` section describes, and splits them.

    Args:
        spec: The ``data:`` section.
        base_dir: The study file's folder; relative paths in ``spec`` are relative to it.
        seed: The study's seed: it seeds the held-out splits, and the generator when ``spec`` has none.

    Raises:
        DataError: a file cannot be read (see :func:`~gapsearch.data.delimited.read_delimited`), the
            training data holds a single class, or a validation or test label is not in it.
    """
    settings = TextSettings(**{name: getattr(spec, name) for name in TextSettings.model_fields})
    if isinstance(spec, SyntheticData):
        return _synthetic_splits(spec, seed, settings)
    return _delimited_splits(spec, Path(base_dir), seed, settings)


def _synthetic_splits(spec: SyntheticData, seed: int, settings: TextSettings) -> TextSplits:
    data_seed = seed if spec.seed is None else spec.seed
    texts, labels = make_synthetic(spec.n_examples, spec.n_classes, data_seed, spec.min_length, spec.max_length)
    remaining = np.arange(len(texts))
    test = None
    if spec.test_split > 0:
        remaining, test_indices = stratified_split(labels, spec.test_split, data_seed)
        test = _subset(texts, labels, test_indices)
    # The validation share is of all examples, so it is a larger share of what the test split left.
    train_positions, validation_positions = stratified_split(
        [labels[i] for i in remaining], spec.validation_split / (1.0 - spec.test_split), data_seed + 1
    )
    return TextSplits(
        train=_subset(texts, labels, remaining[train_positions]),
        validation=_subset(texts, labels, remaining[validation_positions]),
        test=test,
        class_names=_sorted_labels(set(labels)),
        settings=settings,
    )


def _delimited_splits(spec: DelimitedData, base_dir: Path, seed: int, settings: TextSettings) -> TextSplits:
    train_path = base_dir / spec.train
    train_rows = read_delimited_rows(train_path, spec)
    class_names = _sorted_labels(set(train_rows.labels))
    if len(class_names) < 2:
        raise DataError(
            f"{train_path}: only one class ({class_names[0]!r}) in the training data; a classifier needs at least 2"
        )
    if spec.validation is not None:
        train = LabeledTexts(tuple(train_rows.texts), tuple(train_rows.labels))
        validation = _read_known_labels(base_dir / spec.validation, spec, class_names)
    else:
        train_indices, validation_indices = stratified_split(train_rows.labels, spec.validation_split, seed)
        train = _subset(train_rows.texts, train_rows.labels, train_indices)
        validation = _subset(train_rows.texts, train_rows.labels, validation_indices)
    test = None if spec.test is None else _read_known_labels(base_dir / spec.test, spec, class_names)
    return TextSplits(train=train, validation=validation, test=test, class_names=class_names, settings=settings)


def _read_known_labels(path: Path, spec: DelimitedData, class_names: tuple[str, ...]) -> LabeledTexts:
    rows: DelimitedRows = read_delimited_rows(path, spec)
    known = set(class_names)
    for label, line in zip(rows.labels, rows.line_numbers, strict=True):
        if label not in known:
            raise DataError(
                f"{path}, line {line}: label {label!r} does not occur in the training data "
                f"(labels there: {_quoted(class_names)})"
            )
    return LabeledTexts(tuple(rows.texts), tuple(rows.labels))


def _subset(texts: Sequence[str], labels: Sequence[str], indices: np.ndarray) -> LabeledTexts:
    return LabeledTexts(tuple(texts[i] for i in indices.tolist()), tuple(labels[i] for i in indices.tolist()))


def _sorted_labels(labels: Collection[str]) -> tuple[str, ...]:
    """Labels in order: by value when every label looks like a number ("2" before "10"), else alphabetically."""
    if all(_NUMBER.fullmatch(label) for label in labels):
        return tuple(sorted(labels, key=lambda label: (float(label), label)))
    return tuple(sorted(labels))


def _quoted(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"
