"""A folder with one sub-folder per class, each holding one text file per example (the aclImdb layout)."""

from __future__ import annotations

from pathlib import Path

from gapsearch.data.sources._base import Collector, decode, read_bytes
from gapsearch.errors import DataError
from gapsearch.spec.data import DirectoryData


def read_into(collector: Collector, folder: Path, spec: DirectoryData) -> None:
    """Adds every example file of ``folder``'s class sub-folders to ``collector``, classes and files sorted."""
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "is a file, not a folder with one sub-folder per class"
        raise DataError(f"{folder}: {what}")
    present = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes = spec.classes if spec.classes is not None else present
    for name in classes:
        if name not in present:
            raise DataError(
                f"{folder}: no sub-folder {name!r} for that class; the sub-folders are {', '.join(map(repr, present))}"
            )
    if len(classes) == 0:
        raise DataError(f"{folder}: no sub-folders; expected one sub-folder per class, e.g. pos/ and neg/")
    for name in classes:
        files = sorted(p for p in (folder / name).glob(spec.pattern) if p.is_file())
        if not files:
            raise DataError(f"{folder / name}: no file matches {spec.pattern!r} (data.pattern)")
        for path in files:
            collector.add(decode(path, spec.encoding, read_bytes(path)), name, str(path))
