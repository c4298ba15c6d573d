"""What every source reader shares: examples with their locations, path expansion, decoding, label checks."""

from __future__ import annotations

import codecs
import glob
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gapsearch.errors import DataError

#: A label as read: a class name, a number (regression, or numeric class names), or several class names.
Label = str | float | tuple[str, ...]


@dataclass
class Examples:
    """The examples of one split, in order; ``locations[i]`` says where example ``i`` is (``file, line 3``).

    ``dropped`` lists the locations of examples left out because ``drop_empty`` asked for it.
    """

    source: str
    texts: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def extend(self, other: Examples) -> None:
        self.texts += other.texts
        self.labels += other.labels
        self.locations += other.locations
        self.dropped += other.dropped


class Collector:
    """Checks and gathers examples one by one: empty texts and missing labels are reported where they are."""

    def __init__(self, source: str, *, drop_empty: bool, label_separator: str | None) -> None:
        self.examples = Examples(source)
        self.drop_empty = drop_empty
        self.label_separator = label_separator

    def add(self, text: object, label: object, where: str) -> None:
        if not isinstance(text, str):
            if text is None or (isinstance(text, float) and math.isnan(text)):
                text = ""
            else:
                raise DataError(f"{where}: the text is {type(text).__name__} {text!r}, not text")
        if not text.strip():
            if self.drop_empty:
                self.examples.dropped.append(where)
                return
            raise DataError(f"{where}: empty text (set data.drop_empty: true to drop such examples)")
        self.examples.texts.append(text)
        self.examples.labels.append(normalize_label(label, where, self.label_separator))
        self.examples.locations.append(where)

    def result(self) -> Examples:
        if not self.examples.texts:
            raise DataError(f"{self.examples.source}: no examples")
        return self.examples


def normalize_label(label: object, where: str, separator: str | None = None) -> Label:
    """A label as gapsearch keeps it: stripped text, a float, or a tuple of class names (multilabel)."""
    if hasattr(label, "tolist") and not isinstance(label, str):
        label = label.tolist()  # NumPy scalars and arrays (from Parquet)
    if label is None or (isinstance(label, float) and math.isnan(label)):
        raise DataError(f"{where}: missing label")
    if isinstance(label, bool):
        return str(label).lower()
    if isinstance(label, numbers.Real):
        return float(label)
    if isinstance(label, str):
        label = label.strip()
        if not label:
            raise DataError(f"{where}: missing label")
        if separator is not None:
            return tuple(sorted({part.strip() for part in label.split(separator) if part.strip()}))
        return label
    if isinstance(label, (list, tuple)):
        names = []
        for item in label:
            if item is None or isinstance(item, (list, tuple, dict)):
                raise DataError(f"{where}: label {label!r} holds {item!r}; a label list holds class names")
            names.append(format_number(float(item)) if isinstance(item, numbers.Real) else str(item).strip())
        return tuple(sorted(set(names)))
    raise DataError(f"{where}: label {label!r} is a {type(label).__name__}; expected text, a number or a list")


def format_number(value: float) -> str:
    """``1.0`` -> ``'1'``, ``0.5`` -> ``'0.5'``: numeric class names as people write them."""
    return str(int(value)) if float(value).is_integer() else repr(value)


_GLOB_CHARACTERS = frozenset("*?[")


def expand_paths(base_dir: Path, given: str, key: str, suffixes: Iterable[str]) -> list[Path]:
    """The files ``given`` names: a file, every file with one of ``suffixes`` in a folder, or a glob's matches.

    Raises:
        DataError: nothing exists there, or the folder or glob holds no such file.
    """
    path = base_dir / given
    if _GLOB_CHARACTERS & set(given):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not matches:
            raise DataError(f"{path}: no file matches the pattern (data.{key})")
        return matches
    if path.is_dir():
        wanted = tuple(suffixes)
        found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(wanted))
        if not found:
            raise DataError(f"{path}: the folder holds no {' or '.join(wanted)} file (data.{key})")
        return found
    if not path.exists():
        raise DataError(f"{path}: no such file (data.{key})")
    return [path]


def read_bytes(path: Path) -> bytes:
    """The bytes of a file, with one-line errors."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the file ({error.strerror})") from None


def decode(path: Path, encoding: str, raw: bytes | None = None) -> str:
    """The text of a file in ``encoding``; a failure names the line, the byte and the encoding to try."""
    if raw is None:
        raw = read_bytes(path)
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
    return text.removeprefix("\ufeff")  # a byte order mark is not part of the text
