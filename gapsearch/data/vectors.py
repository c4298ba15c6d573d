"""Pre-trained word vectors: reading word2vec text, GloVe and fastText files, and looking up a vocabulary.

The three formats are one text format: a word, then its numbers, separated by spaces, one word a
line. word2vec's text output and fastText's ``.vec`` start with a header line ``COUNT DIMENSION``;
GloVe's ``.txt`` has none (its dimension is the first line's count of numbers). Any of them may be
gzipped (recognized by its first bytes, not its name). GloVe's large Common Crawl files hold a few
words with spaces in them: a line's last ``DIMENSION`` fields are the vector and the rest the word.

NumPy and plain Python only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from gapsearch.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
#: ``gapsearch validate`` reads this many vector lines to check a file's format; ``run`` reads them all.
CHECKED_LINES = 3


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


def _open(path: Path) -> io.BufferedIOBase:
    with path.open("rb") as handle:
        gzipped = handle.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def _header(first: str) -> int | None:
    """The dimension a ``COUNT DIMENSION`` header line gives, or None when the line is a vector."""
    fields = first.split()
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        return int(fields[1])
    return None


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of every non-empty line, trailing whitespace removed, numbered from 1.

    Bytes, not text: a file of a few hundred thousand words is scanned for the few thousand a vocabulary
    needs, and only those are decoded and parsed.
    """
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip()
                if line:
                    yield number, line
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: cannot read the vectors ({error})") from None


def _text(raw: bytes) -> str:
    # Replacing undecodable bytes: a few words of large crawled files are not valid UTF-8.
    return raw.decode("utf-8", errors="replace")


def _split(path: Path, number: int, line: bytes, dimension: int) -> tuple[str, bytes]:
    """The word of a line and its numbers (still bytes): the last ``dimension`` fields are the numbers."""
    spaces = line.count(b" ")
    if spaces == dimension:  # the common case: a word without spaces
        word, _, numbers = line.partition(b" ")
    elif spaces > dimension:  # a word with spaces in it (GloVe's Common Crawl files hold a few)
        *pieces, numbers = line.split(b" ", spaces - dimension + 1)
        word = b" ".join(pieces)
    else:
        word = line.partition(b" ")[0]
    if spaces < dimension or not word:
        raise DataError(
            f"{path}, line {number}: expected a word and {dimension} numbers separated by spaces, but got "
            f"{spaces} field(s) after {_text(word)[:40]!r}"
        )
    return _text(word), numbers


def _numbers(path: Path, number: int, word: str, numbers: bytes) -> np.ndarray:
    fields = _text(numbers).split(" ")
    try:
        vector = np.asarray(fields, dtype=np.float32)
    except ValueError:
        bad = next(f for f in fields if not _is_number(f))
        raise DataError(f"{path}, line {number}: {bad[:40]!r} in the vector of {word[:40]!r} is not a number") from None
    if not np.isfinite(vector).all():
        raise DataError(f"{path}, line {number}: the vector of {word[:40]!r} holds a non-finite number")
    return vector


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dimension(path: Path, lines: Iterator[tuple[int, bytes]]) -> tuple[int, list[tuple[int, bytes]]]:
    """The file's dimension, and the lines read to learn it that are vectors."""
    first = next(lines, None)
    if first is None:
        raise DataError(f"{path}: the vectors file is empty; expected one word and its numbers per line")
    text = _text(first[1])
    dimension = _header(text)
    if dimension is not None:
        if dimension < 1:
            raise DataError(f"{path}, line {first[0]}: the header gives dimension {dimension}; expected at least 1")
        return dimension, []
    fields = text.split(" ")
    if len(fields) < 2:
        raise DataError(f"{path}, line {first[0]}: expected a word and its numbers separated by spaces")
    return len(fields) - 1, [first]


def vectors_dimension(path: str | Path) -> int:
    """The dimension of a vectors file, from its header or first line; the first lines are checked too.

    Raises:
        DataError: the file is empty, unreadable, or one of its first lines is not a word and that many numbers.
    """
    path = Path(path)
    lines = _lines(path)
    dimension, read = _dimension(path, lines)
    for _, (number, line) in zip(range(CHECKED_LINES), chain(read, lines), strict=False):
        word, numbers = _split(path, number, line, dimension)
        _numbers(path, number, word, numbers)
    return dimension


def read_vectors(path: str | Path, wanted: Collection[str]) -> tuple[list[str], np.ndarray]:
    """The words of ``path`` that ``wanted`` needs (exactly, or lowercased), and their vectors.

    Every line is checked for a word and the right count of fields; the numbers are parsed (and
    checked) for the words kept, which is what makes reading a multi-gigabyte file bearable.

    Raises:
        DataError: naming the file and the line that is not a word and ``dimension`` numbers.
    """
    path = Path(path)
    wanted = set(wanted)
    lines = _lines(path)
    dimension, read = _dimension(path, lines)
    words: list[str] = []
    rows: list[np.ndarray] = []
    for number, line in chain(read, lines):
        word, numbers = _split(path, number, line, dimension)
        if word in wanted or word.lower() in wanted:
            words.append(word)
            rows.append(_numbers(path, number, word, numbers))
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
