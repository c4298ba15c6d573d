"""One text file per class, one example per line: ``train: {pos: a.txt, neg: b.txt}``.

Lines end at ``\\n`` (or ``\\r\\n``) only: U+0085 and other Unicode line breaks stay inside a line,
as the MR files need (their latin-1 byte 0x85 would otherwise split 13 sentences).
"""

from __future__ import annotations

from pathlib import Path

from gapsearch.data.sources._base import Collector, decode


def read_into(collector: Collector, path: Path, class_name: str, encoding: str) -> None:
    """Adds each line of ``path`` as an example of ``class_name``; a final newline adds none."""
    lines = decode(path, encoding).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        collector.add(line.removesuffix("\r"), class_name, f"{path}, line {number}")
