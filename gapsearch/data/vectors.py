"""Pre-trained word vectors: reading the words a vocabulary needs from word2vec text, GloVe and fastText files,
and looking up a vocabulary.

The files' format (and the line reader) is :mod:`gapsearch.spec.vectors_file`'s, where the study file's checks
read a file's dimension.

NumPy and plain Python only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from gapsearch.spec.vectors_file import file_dimension, parse_numbers, split_line, vector_lines, vectors_dimension


@dataclass(frozen=True, eq=False)
class LookedUpVectors:
    """A vocabulary's rows of pre-trained vectors.

    Attributes:
        matrix: ``(vocabulary size, dimension)`` float32; the vector of each id that has one, 0 elsewhere.
        found: ``(vocabulary size,)`` bool, True for the ids whose row came from the file.
        scale: Standard deviation of the found vectors' numbers: words without a vector start as uniform
            noise of the same variance (as in Kim, 2014).
    """

    matrix: np.ndarray
    found: np.ndarray
    scale: float

    @property
    def words(self) -> int:
        """Words of the vocabulary (padding and out-of-vocabulary ids aside)."""
        return max(len(self.found) - 2, 0)

    @property
    def covered(self) -> int:
        return int(self.found[2:].sum())

    @property
    def coverage(self) -> float:
        """Share of the vocabulary's words that have a vector."""
        return self.covered / self.words if self.words else 0.0

    def describe(self) -> str:
        return f"vectors for {self.covered} of {self.words} words ({100 * self.coverage:.1f}%)"

    def unit_length(self) -> LookedUpVectors:
        """The same vectors scaled to unit length (L2 norm 1), as GloVe's and word2vec's own tools compare them.

        What the embedding starts from. A file's own scale is arbitrary (GloVe 6B's numbers have a standard
        deviation near 0.6, about 20 times that of Keras' random embedding), and an optimizer such as Adam
        moves each number by about its learning rate per step whatever the number's size: at the file's
        scale, fine-tuning barely moves the vectors. At unit length (numbers near ``1 / sqrt(dimension)``)
        they are fine-tuned and still keep what they know.
        """
        norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
        matrix = np.where(self.found[:, None] & (norms > 0), self.matrix / np.maximum(norms, 1e-12), self.matrix)
        matrix = matrix.astype(np.float32)
        scale = float(matrix[self.found].std()) if self.found.any() else 0.0
        return LookedUpVectors(matrix, self.found, scale if scale > 0 else self.scale)


@dataclass(frozen=True, eq=False)
class VectorWords:
    """The words a vectors file has a vector for, matched as :func:`look_up` matches them: a token has one when
    it is one of the words, or one of them lowercased.

    Attributes:
        key: What identifies the file (its content hash): arrays built with these words are cached under it.
    """

    key: str
    words: frozenset[str]
    lowered: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lowered", frozenset(word.lower() for word in self.words))

    def __contains__(self, token: object) -> bool:
        return token in self.words or token in self.lowered


def read_vectors(path: str | Path, wanted: Collection[str]) -> tuple[list[str], np.ndarray]:
    """The words of ``path`` that ``wanted`` needs (exactly, or lowercased), and their vectors.

    Every line is checked for a word and the right count of fields; the numbers are parsed (and
    checked) for the words kept, which is what makes reading a multi-gigabyte file bearable.

    Raises:
        DataError: naming the file and the line that is not a word and ``dimension`` numbers.
    """
    path = Path(path)
    wanted = set(wanted)
    lines = vector_lines(path)
    dimension, read = file_dimension(path, lines)
    words: list[str] = []
    rows: list[np.ndarray] = []
    for number, line in chain(read, lines):
        word, numbers = split_line(path, number, line, dimension)
        if word in wanted or word.lower() in wanted:
            words.append(word)
            rows.append(parse_numbers(path, number, word, numbers))
    matrix = np.stack(rows) if rows else np.zeros((0, dimension), dtype=np.float32)
    return words, matrix


def look_up(tokens: Sequence[str], words: Sequence[str], table: np.ndarray) -> LookedUpVectors:
    """The vocabulary ``tokens`` (id order) matched to ``words``: an exact match first, else a lowercased one.

    Ids 0 and 1 (padding, out-of-vocabulary) never get a vector.
    """
    exact = {word: index for index, word in enumerate(words)}
    lowered: dict[str, int] = {}
    for index, word in enumerate(words):
        lowered.setdefault(word.lower(), index)
    matrix = np.zeros((len(tokens), table.shape[1]), dtype=np.float32)
    found = np.zeros(len(tokens), dtype=bool)
    for token_id, token in enumerate(tokens):
        if token_id < 2:
            continue
        row = exact.get(token, lowered.get(token))
        if row is not None:
            matrix[token_id] = table[row]
            found[token_id] = True
    scale = float(matrix[found].std()) if found.any() else 0.05
    return LookedUpVectors(matrix, found, scale if scale > 0 else 0.05)


def file_digest(path: str | Path) -> str:
    """A hash of the file's contents: the cache key of everything read from it."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:20]


__all__ = ["LookedUpVectors", "VectorWords", "file_digest", "look_up", "read_vectors", "vectors_dimension"]
