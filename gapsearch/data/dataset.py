"""A study's data: the texts split for the search, and their vectorized form per training run.

:func:`load_splits` reads (or generates) the texts once, infers or checks the task, and holds out
validation data or assigns folds; :meth:`TextSplits.runs` turns them into id arrays for one
(``max_tokens``, ``sequence_length``) pair, one :class:`VectorizedSplits` per training run (the
validation split, or each fold), with a vocabulary built from that run's training rows (with pre-trained
vectors, also every word of the texts the run scores that the vectors file has: see :meth:`TextSplits.vectorize_run`).
The test split is read only when asked for (``gapsearch evaluate``, ``gapsearch data``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path

import numpy as np

from gapsearch.data.labels import LabelEncoding, label_encoding, quoted
from gapsearch.data.sources import Examples, Label, read_source
from gapsearch.data.splits import stratified_folds, stratified_split
from gapsearch.data.text import Vocabulary, standardize, tokenize, vectorize
from gapsearch.data.vectors import VectorWords
from gapsearch.errors import DataError
from gapsearch.spec.data import DataSpec, TextSettings

#: How many vectorized variants a TextSplits keeps in memory.
VECTORIZED_CACHE_SIZE = 8


@dataclass(frozen=True)
class LabeledTexts:
    """Texts and their labels (as read), in the same order; ``locations`` say where each one is."""

    texts: tuple[str, ...]
    labels: tuple[Label, ...]
    locations: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(
                f"texts and labels must pair up, but got {len(self.texts)} texts and {len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def of(cls, examples: Examples) -> LabeledTexts:
        return cls(tuple(examples.texts), tuple(examples.labels), tuple(examples.locations))

    def examples(self, source: str = "") -> Examples:
        locations = list(self.locations) or [f"{source}, example {i + 1}" for i in range(len(self))]
        return Examples(source, list(self.texts), list(self.labels), locations)


@dataclass(frozen=True, eq=False)
class VectorizedSplits:
    """The training and validation rows of one run as arrays, for one (max_tokens, sequence_length) pair.

    ``x_*`` are int32 id arrays of shape (examples, sequence_length), padded with 0; ``y_*`` as
    :class:`~gapsearch.data.labels.LabelEncoding` makes them. The arrays may be read-only memory
    maps shared by every trial and process: do not modify them.

    With an inner validation split (``data.inner_validation_split``, folds only), ``x_validation`` is
    that split of the fold's training rows, which chooses the epochs, and ``x_held_out`` the fold
    itself, which the run reports at the chosen epoch; without one ``x_held_out`` is None.

    Attributes:
        vocabulary: The run's training rows' tokens (at most ``max_tokens`` ids); with pre-trained vectors, then
            the words of its scored rows that have a vector.
        oov_rate: Share of the training rows' tokens outside the vocabulary (cut by ``max_tokens``).
        truncation_rate: Share of the training texts longer than ``sequence_length``, hence cut.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    vocabulary: Vocabulary
    oov_rate: float
    truncation_rate: float
    x_held_out: np.ndarray | None = None
    y_held_out: np.ndarray | None = None

    @property
    def vocabulary_size(self) -> int:
        """Number of ids, padding and out-of-vocabulary included: the embedding's input dimension."""
        return len(self.vocabulary)


@dataclass(frozen=True)
class InnerSplit:
    """The share of each fold's training rows held out to choose its epochs, and the study seed that draws them."""

    share: float
    seed: int

    def split(self, keys: Sequence[str], fold: int) -> tuple[np.ndarray, np.ndarray]:
        """Fold ``fold``'s kept and inner rows (positions in ``keys``), stratified, fixed by the seed and the fold."""
        return stratified_split(keys, self.share, self.seed + 7919 * (fold + 1))


@dataclass(frozen=True)
class TextSplits:
    """The texts of a study, split for the search, with the task and the text settings that apply.

    With folds, ``validation`` is None and ``folds[i]`` is the fold of ``train``'s example ``i``;
    with ``inner`` as well, each fold's training rows give up its share (stratified, seeded from the
    study seed and the fold) as the run's validation rows, and the fold is held out.
    ``class_names`` are the train split's labels, sorted (numerically when all look like numbers);
    a label's class id is its index there. ``dropped`` counts the examples left out per split
    because the study set ``drop_empty``.
    """

    train: LabeledTexts
    validation: LabeledTexts | None
    test: LabeledTexts | None
    encoding: LabelEncoding
    settings: TextSettings
    folds: tuple[int, ...] | None = None
    dropped: tuple[tuple[str, int], ...] = ()
    inner: InnerSplit | None = None
    _memo: OrderedDict[tuple, VectorizedSplits] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.encoding.class_names

    @property
    def task(self) -> str:
        """``binary``, ``multiclass``, ``multilabel`` or ``regression``."""
        return self.encoding.task

    @property
    def n_folds(self) -> int:
        return 0 if self.folds is None else max(self.folds) + 1

    # cached_property writes to the instance __dict__ directly, so it works on a frozen dataclass.
    @cached_property
    def train_tokens(self) -> list[list[str]]:
        """The train texts, standardized and tokenized (computed once)."""
        return self._tokenize(self.train)

    @cached_property
    def validation_tokens(self) -> list[list[str]]:
        return [] if self.validation is None else self._tokenize(self.validation)

    @cached_property
    def test_tokens(self) -> list[list[str]] | None:
        return None if self.test is None else self._tokenize(self.test)

    @cached_property
    def y_train(self) -> np.ndarray:
        return self.encoding.encode(self.train.examples("train"))

    @cached_property
    def y_validation(self) -> np.ndarray:
        return self.encoding.encode(self.validation.examples("validation")) if self.validation else self.y_train[:0]

    @cached_property
    def y_test(self) -> np.ndarray | None:
        return None if self.test is None else self.encoding.encode(self.test.examples("test"))

    def run_names(self) -> list[str]:
        """``["validation"]``, or ``["fold_1", ..., "fold_k"]`` with folds."""
        return ["validation"] if self.folds is None else [f"fold_{i + 1}" for i in range(self.n_folds)]

    def training_lengths(self) -> np.ndarray:
        """Token counts of the texts the search trains on (all of train with folds)."""
        return np.fromiter((len(t) for t in self.train_tokens), dtype=np.int64, count=len(self.train))

    def vocabulary(self, max_tokens: int) -> Vocabulary:
        """The vocabulary of the train split with at most ``max_tokens`` ids."""
        return Vocabulary.from_counts(self._train_token_counts, max_tokens)

    @cached_property
    def _train_token_counts(self) -> Counter[str]:
        return Counter(chain.from_iterable(self.train_tokens))

    def vectorize(self, max_tokens: int, sequence_length: int) -> VectorizedSplits:
        """The train and validation splits as id arrays; the same object for the same arguments.

        With folds, use :meth:`vectorize_run`. The last :data:`VECTORIZED_CACHE_SIZE` results are kept.
        """
        return self.vectorize_run("validation", max_tokens, sequence_length)

    def vectorize_run(
        self, run: str, max_tokens: int, sequence_length: int, vector_words: VectorWords | None = None
    ) -> VectorizedSplits:
        """The arrays of one run (``"validation"`` or ``"fold_i"``), remembered in memory.

        The vocabulary holds the ``max_tokens - 2`` most frequent tokens of the run's training rows. With
        ``vector_words`` (the words of the pre-trained vectors file the model starts from), it then takes each
        word of the rows the run scores (validation, inner split, held-out fold) that has a vector, as Kim (2014)
        built his from every sentence: such a word never trains, but its pre-trained vector carries what it
        means, where it would otherwise be out-of-vocabulary. No label is read for it.
        """
        key = (run, max_tokens, sequence_length, None if vector_words is None else vector_words.key)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        if run == "validation":
            if self.folds is not None:
                raise ValueError("the study uses folds; vectorize one of run_names() instead")
            result = self._vectorize_rows(
                self.train_tokens,
                self.y_train,
                self.validation_tokens,
                self.y_validation,
                max_tokens,
                sequence_length,
                vector_words=vector_words,
            )
        else:
            result = self._vectorize_fold(int(run.removeprefix("fold_")) - 1, max_tokens, sequence_length, vector_words)
        self._memo[key] = result
        if len(self._memo) > VECTORIZED_CACHE_SIZE:
            self._memo.popitem(last=False)
        return result

    def _vectorize_fold(
        self, fold: int, max_tokens: int, sequence_length: int, vector_words: VectorWords | None
    ) -> VectorizedSplits:
        """Fold ``fold``'s arrays: trained on the other folds (less the inner split), validated on the
        fold, or on the inner split with the fold held out."""
        held = np.asarray(self.folds) == fold
        tokens = self.train_tokens
        rest, fold_rows = np.flatnonzero(~held), np.flatnonzero(held)
        if self.inner is None:
            train_rows, validation_rows = rest, fold_rows
        else:
            kept, inner = self.inner.split(self.encoding.stratification_keys(self.y_train[rest]), fold)
            train_rows, validation_rows = rest[kept], rest[inner]
        result = self._vectorize_rows(
            [tokens[i] for i in train_rows],
            self.y_train[train_rows],
            [tokens[i] for i in validation_rows],
            self.y_train[validation_rows],
            max_tokens,
            sequence_length,
            scored=[] if self.inner is None else [tokens[i] for i in fold_rows],
            vector_words=vector_words,
        )
        if self.inner is None:
            return result
        x_fold = vectorize([tokens[i] for i in fold_rows], result.vocabulary, sequence_length, self.settings.truncation)
        return dataclasses.replace(result, x_held_out=x_fold, y_held_out=self.y_train[fold_rows])

    def vectorize_final(
        self,
        max_tokens: int,
        sequence_length: int,
        *,
        include_validation: bool,
        vector_words: VectorWords | None = None,
    ) -> VectorizedSplits:
        """Train (and validation, if asked) against the test split, for ``gapsearch evaluate``.

        The vocabulary comes from the training rows (with ``vector_words``, then the test split's words that have
        a vector, as :meth:`vectorize_run` does); ``x_validation``/``y_validation`` hold the test split.
        """
        if self.test is None or self.test_tokens is None or self.y_test is None:
            raise DataError("the data has no test split; set data.test (a file) or data.test_split (synthetic data)")
        tokens, y = self.train_tokens, self.y_train
        if include_validation and self.validation is not None:
            tokens, y = tokens + self.validation_tokens, np.concatenate([y, self.y_validation])
        return self._vectorize_rows(
            tokens, y, self.test_tokens, self.y_test, max_tokens, sequence_length, vector_words=vector_words
        )

    def vectorize_test(self, max_tokens: int, sequence_length: int) -> tuple[np.ndarray, np.ndarray]:
        """The test split as (x_test, y_test), with the train split's vocabulary. Not remembered."""
        final = self.vectorize_final(max_tokens, sequence_length, include_validation=False)
        return final.x_validation, final.y_validation

    def _vectorize_rows(
        self,
        train_tokens: Sequence[Sequence[str]],
        y_train: np.ndarray,
        other_tokens: Sequence[Sequence[str]],
        y_other: np.ndarray,
        max_tokens: int,
        sequence_length: int,
        *,
        scored: Sequence[Sequence[str]] = (),
        vector_words: VectorWords | None = None,
    ) -> VectorizedSplits:
        """``other_tokens`` (and ``scored``, rows scored beside them) get the ids of the training rows' vocabulary,
        extended by their words that have a vector when ``vector_words`` is given."""
        counts = (
            self._train_token_counts
            if train_tokens is self.train_tokens
            else Counter(chain.from_iterable(train_tokens))
        )
        vocabulary = Vocabulary.from_counts(counts, max_tokens)
        if vector_words is not None:
            vocabulary = vocabulary.extended(chain(other_tokens, scored), vector_words.__contains__)
        n_tokens = sum(counts.values())
        n_known = sum(counts[token] for token in vocabulary.tokens[2:] if token in counts)
        truncation = self.settings.truncation
        return VectorizedSplits(
            x_train=vectorize(train_tokens, vocabulary, sequence_length, truncation),
            y_train=y_train,
            x_validation=vectorize(other_tokens, vocabulary, sequence_length, truncation),
            y_validation=y_other,
            vocabulary=vocabulary,
            oov_rate=(n_tokens - n_known) / n_tokens if n_tokens else 0.0,
            truncation_rate=sum(len(tokens) > sequence_length for tokens in train_tokens) / max(len(train_tokens), 1),
        )

    def _tokenize(self, split: LabeledTexts) -> list[list[str]]:
        return [tokenize(standardize(text, self.settings)) for text in split.texts]


def text_settings(spec: DataSpec) -> TextSettings:
    return TextSettings(**{name: getattr(spec, name) for name in TextSettings.model_fields})


def load_splits(spec: DataSpec, base_dir: Path, seed: int, *, with_test: bool = True) -> TextSplits:
    """Reads or generates the texts the ``data:`` section describes, and splits them for the search.

    Args:
        spec: The ``data:`` section.
        base_dir: The study file's folder; relative paths in ``spec`` are relative to it.
        seed: The study's seed: it seeds the held-out splits and folds, and the generator when ``spec`` has none.
        with_test: Also read the test split. The search never does.

    Raises:
        DataError: a file cannot be read, the training data holds a single class, a validation or
            test label is not in it, or a class has fewer examples than folds.
    """
    raw = read_source(spec, Path(base_dir), seed, with_test=with_test)
    encoding = label_encoding(raw.train, spec.task)
    y_all = encoding.encode(raw.train)
    folds = None
    if raw.validation is not None:
        train, validation = LabeledTexts.of(raw.train), LabeledTexts.of(raw.validation)
        encoding.encode(raw.validation)  # unknown labels are reported now, not mid-search
    elif spec.folds is not None:
        keys = encoding.stratification_keys(y_all)
        _check_fold_sizes(raw.train, keys, spec.folds, encoding)
        train, validation = LabeledTexts.of(raw.train), None
        folds = tuple(stratified_folds(keys, spec.folds, seed).tolist())
    else:
        rest, held = stratified_split(encoding.stratification_keys(y_all), raw.holdout_fraction, raw.holdout_seed)
        train, validation = _subset(raw.train, rest), _subset(raw.train, held)
    test = None
    if raw.test is not None:
        encoding.encode(raw.test)
        test = LabeledTexts.of(raw.test)
    dropped = tuple(
        (name, len(examples.dropped))
        for name, examples in (("train", raw.train), ("validation", raw.validation), ("test", raw.test))
        if examples is not None and examples.dropped
    )
    share = spec.inner_validation_split
    inner = InnerSplit(share, seed) if folds is not None and share is not None else None
    return TextSplits(train, validation, test, encoding, text_settings(spec), folds, dropped, inner)


def _check_fold_sizes(train: Examples, keys: list[str], folds: int, encoding: LabelEncoding) -> None:
    if encoding.task not in ("binary", "multiclass"):
        if len(train) < folds:
            raise DataError(f"{train.source}: {len(train)} examples are too few for folds: {folds}")
        return
    counts = Counter(keys)
    for class_id, count in sorted(counts.items(), key=lambda item: item[1]):
        if count < folds:
            name = encoding.class_names[int(class_id)]
            raise DataError(
                f"{train.source}: class {name!r} has {count} example{'s' if count != 1 else ''}, fewer than "
                f"folds: {folds}; every fold needs one of each class (lower data.folds or add examples)"
            )


def _subset(examples: Examples, indices: np.ndarray) -> LabeledTexts:
    chosen = indices.tolist()
    return LabeledTexts(
        tuple(examples.texts[i] for i in chosen),
        tuple(examples.labels[i] for i in chosen),
        tuple(examples.locations[i] for i in chosen),
    )


__all__ = ["VECTORIZED_CACHE_SIZE", "LabeledTexts", "TextSplits", "VectorizedSplits", "load_splits", "quoted"]
