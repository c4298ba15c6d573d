"""The text format of pre-trained word vectors files: word2vec text, GloVe and fastText, gzipped or not.

The three formats are one text format: a word, then its numbers, separated by spaces, one word a line.
word2vec's text output and fastText's ``.vec`` start with a header line ``COUNT DIMENSION``; GloVe's ``.txt``
has none (its dimension is the first line's count of numbers). Any of them may be gzipped (recognized by its
first bytes, not its name). GloVe's large Common Crawl files hold a few words with spaces in them: a line's last
``DIMENSION`` fields are the vector and the rest the word.

The study file's checks read a file's first lines here (its dimension is ``embedding_dim``);
:mod:`gapsearch.data.vectors` reads the vectors a vocabulary needs with the same line reader.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import numpy as np

from gapsearch.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
#: ``gapsearch validate`` reads this many vector lines to check a file's format; ``run`` reads them all.
CHECKED_LINES = 3


def open_vectors(path: Path) -> io.BufferedIOBase:
    with path.open("rb") as handle:
        gzipped = handle.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def header_dimension(first: str) -> int | None:
    """The dimension a ``COUNT DIMENSION`` header line gives, or None when the line is a vector."""
    fields = first.split()
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        return int(fields[1])
    return None


def vector_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of every non-empty line, trailing whitespace removed, numbered from 1.

    Bytes, not text: a file of a few hundred thousand words is scanned for the few thousand a vocabulary
    needs, and only those are decoded and parsed.
    """
    try:
        with open_vectors(path) as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip()
                if line:
                    yield number, line
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: cannot read the vectors ({error})") from None


def decode_word(raw: bytes) -> str:
    # Replacing undecodable bytes: a few words of large crawled files are not valid UTF-8.
    return raw.decode("utf-8", errors="replace")


def split_line(path: Path, number: int, line: bytes, dimension: int) -> tuple[str, bytes]:
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
            f"{spaces} field(s) after {decode_word(word)[:40]!r}"
        )
    return decode_word(word), numbers


def parse_numbers(path: Path, number: int, word: str, numbers: bytes) -> np.ndarray:
    fields = decode_word(numbers).split(" ")
    try:
        vector = np.asarray(fields, dtype=np.float32)
    except ValueError:
        bad = next(f for f in fields if not is_number(f))
        raise DataError(f"{path}, line {number}: {bad[:40]!r} in the vector of {word[:40]!r} is not a number") from None
    if not np.isfinite(vector).all():
        raise DataError(f"{path}, line {number}: the vector of {word[:40]!r} holds a non-finite number")
    return vector


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def file_dimension(path: Path, lines: Iterator[tuple[int, bytes]]) -> tuple[int, list[tuple[int, bytes]]]:
    """The file's dimension, and the lines read to learn it that are vectors."""
    first = next(lines, None)
    if first is None:
        raise DataError(f"{path}: the vectors file is empty; expected one word and its numbers per line")
    text = decode_word(first[1])
    dimension = header_dimension(text)
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
    lines = vector_lines(path)
    dimension, read = file_dimension(path, lines)
    for _, (number, line) in zip(range(CHECKED_LINES), chain(read, lines), strict=False):
        word, numbers = split_line(path, number, line, dimension)
        parse_numbers(path, number, word, numbers)
    return dimension


__all__ = [
    "CHECKED_LINES",
    "decode_word",
    "is_number",
    "open_vectors",
    "header_dimension",
    "file_dimension",
    "parse_numbers",
    "split_line",
    "vector_lines",
    "vectors_dimension",
]
