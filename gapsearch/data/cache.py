"""The vectorized-data cache on disk: built once, shared by every trial, worker process and later run.

An entry is a folder of ``.npy`` arrays (read back memory-mapped) and a ``manifest.json`` that
holds the checksum of each array. Its name is a hash of the data files' contents and every
setting that changes the ids, so a changed file or setting makes a new entry, and the old ones
stay until ``gapsearch data --clear`` or a deleted folder removes them. Entries are built under a
lock (one builder; the others wait and then read what it wrote) in a temporary folder that is
renamed into place when complete, so nobody reads half an entry. An entry whose manifest or
arrays do not match is rebuilt.

There is one ``info`` entry per data fingerprint (task, class names, training lengths) and one
entry per training run (the validation split, or a fold) and (``max_tokens``, ``sequence_length``)
pair (and, with pre-trained vectors, vectors file: the vocabulary then takes the words of the scored rows
that have a vector). With pre-trained vectors, one entry holds the vectors of the words the texts use (keyed by the
vectors file's contents too), one per vocabulary the looked-up embedding matrix (keyed by the file's
contents and the vocabulary alone), and one the file's content hash for its path, size and time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from pathlib import Path

import numpy as np

from gapsearch.data.dataset import TextSplits, VectorizedSplits, load_splits
from gapsearch.data.entries import CACHE_FORMAT, load_entry, write_entry
from gapsearch.data.labels import LabelEncoding
from gapsearch.data.text import Vocabulary
from gapsearch.data.vectors import LookedUpVectors, VectorWords, file_digest, look_up, read_vectors
from gapsearch.errors import DataError
from gapsearch.spec.data import (
    ClassFilesData,
    DataSpec,
    DelimitedData,
    DirectoryData,
    JsonLinesData,
    ParquetData,
)

DEFAULT_CACHE_DIR = ".gapsearch-cache"
LOCK_TIMEOUT = 3600  # seconds a process waits for another one building the same entry
_IN_MEMORY = 32  # runs kept open per process: every fold of a few (max_tokens, sequence_length) pairs


@dataclass(frozen=True)
class VectorsCoverage:
    """How much of the train and validation texts a vectors file covers: distinct words, and tokens."""

    covered: int
    words: int
    covered_tokens: int
    tokens: int

    def describe(self) -> str:
        words = self.covered / self.words if self.words else 0.0
        tokens = self.covered_tokens / self.tokens if self.tokens else 0.0
        return (
            f"vectors for {self.covered} of {self.words} distinct words of the training texts ({100 * words:.1f}%), "
            f"{100 * tokens:.1f}% of their tokens"
        )


@dataclass(frozen=True)
class DataInfo:
    """What the search needs to know before vectorizing: the task, the runs and the training lengths."""

    encoding: LabelEncoding
    run_names: tuple[str, ...]
    counts: dict[str, int]
    dropped: dict[str, int]
    training_lengths: np.ndarray

    @property
    def task(self) -> str:
        return self.encoding.task

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.encoding.class_names

    def sequence_length(self, percentile: float) -> int:
        """The ``percentile`` of the training texts' token counts (``sequence_length: auto``)."""
        return max(1, int(np.percentile(self.training_lengths, percentile, method="inverted_cdf")))


def cache_root(spec: DataSpec, base_dir: Path) -> Path:
    """``data.cache_dir`` relative to the study file, or ``.gapsearch-cache`` beside it."""
    return Path(base_dir) / (spec.cache_dir or DEFAULT_CACHE_DIR)


def data_files(spec: DataSpec, base_dir: Path) -> list[Path]:
    """The files the search reads (train and validation; never test), for the fingerprint."""
    from gapsearch.data.sources import _base, delimited, jsonl, parquet

    if isinstance(spec, ClassFilesData):
        files = {**spec.train, **{f"v.{k}": v for k, v in (spec.validation or {}).items()}}
        return [p for key, given in files.items() for p in _base.expand_paths(base_dir, given, key, (".txt",))]
    if isinstance(spec, DirectoryData):
        found: list[Path] = []
        for given in (spec.train, spec.validation):
            if given is not None:
                found += sorted(p for p in (base_dir / given).rglob(spec.pattern) if p.is_file())
        return found
    suffixes = {DelimitedData: delimited.SUFFIXES, JsonLinesData: jsonl.SUFFIXES, ParquetData: parquet.SUFFIXES}
    if type(spec) in suffixes:
        given_paths = [g for g in (spec.train, spec.validation) if g is not None]  # type: ignore[union-attr]
        return [p for g in given_paths for p in _base.expand_paths(base_dir, g, "train", suffixes[type(spec)])]
    return []  # synthetic and Keras' built-in sets: the settings say it all


def fingerprint(spec: DataSpec, base_dir: Path, seed: int) -> str:
    """A hash of the data files' contents and every data setting (the cache folder aside) and the seed."""
    digest = hashlib.sha256()
    settings = spec.model_dump(mode="json", exclude={"cache_dir"})
    digest.update(json.dumps({"format": CACHE_FORMAT, "settings": settings, "seed": seed}, sort_keys=True).encode())
    for path in data_files(spec, Path(base_dir)):
        digest.update(str(path.relative_to(base_dir) if path.is_relative_to(base_dir) else path.name).encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


class StudyData:
    """A study's search data behind the on-disk cache: texts are read only when an entry must be built.

    Args:
        spec: The ``data:`` section.
        base_dir: The study file's folder.
        seed: The study's seed.
        use_cache: False keeps everything in memory (nothing is written).

    Attributes:
        built: Names of the entries this object built (the others it read from disk).
    """

    def __init__(self, spec: DataSpec, base_dir: Path, seed: int, *, use_cache: bool = True) -> None:
        self.spec = spec
        self.base_dir = Path(base_dir)
        self.seed = seed
        self.root = cache_root(spec, self.base_dir) if use_cache else None
        self.key = fingerprint(spec, self.base_dir, seed)
        self.built: list[str] = []
        self.rebuilt_corrupt: list[str] = []
        self._runs: OrderedDict[tuple[str, int, int, str], VectorizedSplits] = OrderedDict()
        self._digests: dict[tuple[str, int, int], str] = {}
        self._coverage: dict[str, VectorsCoverage] = {}
        self._vector_words: dict[str, VectorWords] = {}

    @cached_property
    def splits(self) -> TextSplits:
        """The texts, read and split (only when an entry must be built)."""
        return load_splits(self.spec, self.base_dir, self.seed, with_test=False)

    @cached_property
    def info(self) -> DataInfo:
        """The task, class names, run names, counts and training lengths (an entry of its own)."""
        arrays, meta = self._entry(f"{self.key}-info", self._build_info)
        encoding = LabelEncoding(meta["task"], tuple(meta["class_names"]), meta["inferred"])
        return DataInfo(encoding, tuple(meta["run_names"]), meta["counts"], meta["dropped"], arrays["training_lengths"])

    def _build_info(self) -> tuple[dict[str, np.ndarray], dict]:
        splits = self.splits
        encoding = splits.encoding
        counts = {"train": len(splits.train)}
        if splits.validation is not None:
            counts["validation"] = len(splits.validation)
        return {"training_lengths": splits.training_lengths()}, {
            "task": encoding.task,
            "class_names": list(encoding.class_names),
            "inferred": encoding.inferred,
            "run_names": splits.run_names(),
            "counts": counts,
            "dropped": dict(splits.dropped),
        }

    def runs(
        self, max_tokens: int, sequence_length: int, vectors: Path | None = None
    ) -> list[tuple[str, VectorizedSplits]]:
        """Each training run's arrays for this pair: ``[("validation", ...)]`` or one per fold."""
        return [(name, self.run(name, max_tokens, sequence_length, vectors)) for name in self.info.run_names]

    def run(self, name: str, max_tokens: int, sequence_length: int, vectors: Path | None = None) -> VectorizedSplits:
        """One run's arrays, from memory, the disk cache, or built (and written) now.

        With ``vectors`` (the pre-trained vectors file the model starts from), the vocabulary also takes the words
        of the run's scored rows that the file has a vector for
        (:meth:`~gapsearch.data.dataset.TextSplits.vectorize_run`): the entry is keyed by the file's contents too.
        """
        vector_words = None if vectors is None else self.vector_words(vectors)
        suffix = "" if vector_words is None else f"-v{vector_words.key}"
        key = (name, max_tokens, sequence_length, suffix)
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        arrays, meta = self._entry(
            f"{self.key}-{name}-{max_tokens}-{sequence_length}{suffix}",
            lambda: self._build_run(name, max_tokens, sequence_length, vector_words),
        )
        result = VectorizedSplits(
            x_train=arrays["x_train"],
            y_train=arrays["y_train"],
            x_validation=arrays["x_validation"],
            y_validation=arrays["y_validation"],
            vocabulary=Vocabulary(tuple(meta["vocabulary"])),
            oov_rate=meta["oov_rate"],
            truncation_rate=meta["truncation_rate"],
            x_held_out=arrays.get("x_held_out"),
            y_held_out=arrays.get("y_held_out"),
        )
        self._runs[key] = result
        if len(self._runs) > _IN_MEMORY:
            self._runs.popitem(last=False)
        return result

    def _build_run(
        self, name: str, max_tokens: int, sequence_length: int, vector_words: VectorWords | None
    ) -> tuple[dict[str, np.ndarray], dict]:
        vectorized = self.splits.vectorize_run(name, max_tokens, sequence_length, vector_words)
        arrays = {
            "x_train": vectorized.x_train,
            "y_train": vectorized.y_train,
            "x_validation": vectorized.x_validation,
            "y_validation": vectorized.y_validation,
        }
        if vectorized.x_held_out is not None and vectorized.y_held_out is not None:
            arrays |= {"x_held_out": vectorized.x_held_out, "y_held_out": vectorized.y_held_out}
        meta = {
            "vocabulary": list(vectorized.vocabulary.tokens),
            "oov_rate": vectorized.oov_rate,
            "truncation_rate": vectorized.truncation_rate,
        }
        return arrays, meta

    def vectors(self, vocabulary: Vocabulary, path: Path) -> LookedUpVectors:
        """The pre-trained vectors of ``vocabulary``'s ids, from the cache or looked up now.

        The entry is keyed by the vectors file's contents and the vocabulary's tokens alone, so every trial,
        run, worker and study with that vocabulary reads it; the file itself (the slow part) is read once
        per data and vectors file, when the first vocabulary is looked up.

        Raises:
            DataError: a line of the vectors file is not a word and its numbers (named by line number).
        """
        digest = self._digest(path)
        tokens = hashlib.sha256("\n".join(vocabulary.tokens).encode()).hexdigest()[:16]

        def build() -> tuple[dict[str, np.ndarray], dict]:
            words, table = self.vectors_table(path, digest)
            looked_up = look_up(vocabulary.tokens, words, table)
            return {"matrix": looked_up.matrix, "found": looked_up.found}, {"scale": looked_up.scale}

        arrays, meta = self._entry(f"vectors-{digest}-{tokens}", build)
        return LookedUpVectors(np.asarray(arrays["matrix"]), np.asarray(arrays["found"]), float(meta["scale"]))

    def vectors_table(self, path: Path, digest: str | None = None) -> tuple[list[str], np.ndarray]:
        """The words of the train and validation texts that ``path`` has a vector for, and the vectors."""
        digest = digest or self._digest(path)

        def build() -> tuple[dict[str, np.ndarray], dict]:
            splits = self.splits
            counts = Counter(chain.from_iterable((*splits.train_tokens, *splits.validation_tokens)))
            words, table = read_vectors(path, counts)
            covered = {w for w in words if w in counts} | {w.lower() for w in words if w.lower() in counts}
            return {"table": table}, {
                "words": words,
                "wanted": len(counts),
                "covered": len(covered),
                "tokens": sum(counts.values()),
                "covered_tokens": sum(counts[word] for word in covered),
            }

        arrays, meta = self._entry(f"{self.key}-words-{digest}", build)
        coverage = VectorsCoverage(meta["covered"], meta["wanted"], meta["covered_tokens"], meta["tokens"])
        self._coverage[str(path)] = coverage
        return list(meta["words"]), np.asarray(arrays["table"])

    def vector_words(self, path: Path) -> VectorWords:
        """The words of the train and validation texts that ``path`` has a vector for (from the cache)."""
        digest = self._digest(path)
        if digest not in self._vector_words:
            self._vector_words[digest] = VectorWords(digest, frozenset(self.vectors_table(path, digest)[0]))
        return self._vector_words[digest]

    def vectors_coverage(self, path: Path) -> str:
        """How many distinct words of the train and validation texts, and of their tokens, ``path`` covers."""
        self.vectors_table(path)
        return self._coverage[str(path)].describe()

    def _digest(self, path: Path) -> str:
        """The vectors file's content hash, computed once per file state (path, size, modification time).

        Hashing a large file means reading it: the hash of each state is kept in the cache (as ``make`` and
        git's index trust a file's size and time), so a later process does not read the file to find its
        entries. In this process it is kept in memory too.
        """
        stat = Path(path).stat()
        state = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
        if state not in self._digests:
            key = hashlib.sha256(json.dumps(state).encode()).hexdigest()[:20]
            _, meta = self._entry(f"digest-{key}", lambda: ({}, {"digest": file_digest(path), "file": state[0]}))
            self._digests[state] = meta["digest"]
        return self._digests[state]

    # The entry protocol: look without the lock; build under it; rename into place when complete.

    def _entry(self, name: str, build: Callable[[], tuple[dict[str, np.ndarray], dict]]):  # noqa: ANN202
        if self.root is None:
            self.built.append(name)
            return build()
        folder = self.root / name
        loaded = load_entry(folder)
        if loaded is not None:
            return loaded
        from filelock import FileLock, Timeout

        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DataError(
                f"{self.root}: cannot create the cache folder ({error.strerror}); set data.cache_dir"
            ) from None
        try:
            with FileLock(str(folder) + ".lock", timeout=LOCK_TIMEOUT):
                loaded = load_entry(folder)  # another process may have built it while we waited
                if loaded is not None:
                    return loaded
                if folder.exists():
                    self.rebuilt_corrupt.append(name)
                    shutil.rmtree(folder)
                arrays, meta = build()
                write_entry(folder, arrays, meta)
                self.built.append(name)
        except Timeout:
            raise DataError(f"{folder}.lock: another process held the cache lock for {LOCK_TIMEOUT}s") from None
        loaded = load_entry(folder)
        if loaded is None:
            raise DataError(f"{folder}: the cache entry just written cannot be read back")
        return loaded


def clear_cache(spec: DataSpec, base_dir: Path) -> int:
    """Removes the cache folder; returns how many entries it held."""
    root = cache_root(spec, base_dir)
    if not root.is_dir():
        return 0
    count = sum(1 for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    shutil.rmtree(root)
    return count


__all__ = ["DEFAULT_CACHE_DIR", "DataInfo", "StudyData", "VectorsCoverage", "cache_root", "clear_cache", "fingerprint"]
