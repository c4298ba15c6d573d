"""One entry of the vectorized-data cache on disk: ``.npy`` arrays and a ``manifest.json`` with each array's checksum.

Written in a temporary folder and renamed into place when complete, read back memory-mapped and checked; an
entry that is missing, of another format or whose arrays do not match their checksums reads as None.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np

#: Bump when the arrays' meaning changes, so older entries are not reused.
CACHE_FORMAT = 1
_MANIFEST = "manifest.json"


def _checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_entry(folder: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Writes the entry in a temporary folder beside ``folder``, synced, then renamed into place: whoever reads
    ``folder`` finds all of it or none."""
    temporary = folder.with_name(f".{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    temporary.mkdir()
    try:
        checksums = {}
        for key, array in arrays.items():
            path = temporary / f"{key}.npy"
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
            checksums[key] = _checksum(path)
        manifest = {"format": CACHE_FORMAT, "checksums": checksums, "meta": meta}
        (temporary / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        _fsync_all(temporary.iterdir())
        os.rename(temporary, folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _fsync_all(paths: Iterable[Path]) -> None:
    for path in paths:
        with path.open("rb") as handle:
            os.fsync(handle.fileno())


def load_entry(folder: Path) -> tuple[dict[str, np.ndarray], dict] | None:
    """The entry's arrays (memory-mapped, read-only) and metadata; None when it is missing or corrupt."""
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != CACHE_FORMAT:
            return None
        arrays = {}
        for key, expected in manifest["checksums"].items():
            path = folder / f"{key}.npy"
            if _checksum(path) != expected:
                return None
            arrays[key] = np.load(path, mmap_mode="r", allow_pickle=False)
        return arrays, manifest["meta"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


__all__ = ["CACHE_FORMAT", "load_entry", "write_entry"]
