"""The shell blocks of README.md and docs/pages/*.md marked runnable work as written, from a clean clone's layout.

A block is runnable when the line before its fence is the marker ``<!-- runnable -->`` (an HTML comment, so
neither GitHub nor mkdocs shows it)::

    <!-- runnable -->
    ```sh
    gapsearch report studies/quickstart.yaml -o report/
    ```

The tracked files (and new ones git does not ignore) are copied into a temporary folder, as a clone has them.
The environment's ``bin`` goes first on ``PATH``, as ``source .venv/bin/activate`` puts it, so the blocks' bare
``gapsearch`` and ``optuna`` are the environment's, running the copy's code. As ``make run`` would, the quickstart
study runs first (cut to 3 trials); then every runnable block runs in the order a reader meets it (the README,
then the pages in the navigation's order), each under ``bash -e`` from the copy's root. A block fails on a
non-zero exit or a ``Traceback`` in what it printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, require

MARKER = "<!-- runnable -->"
#: The environment's scripts (gapsearch, optuna, pip): what ``source .venv/bin/activate`` puts first on PATH.
BIN = Path(sys.executable).parent


def documents() -> list[Path]:
    """The README, then the documentation's pages in the order of the navigation."""
    nav = yaml.safe_load((ROOT / "docs" / "mkdocs.yml").read_text())["nav"]
    return [ROOT / "README.md", *(ROOT / "docs" / "pages" / next(iter(entry.values())) for entry in nav)]


def runnable_blocks(path: Path) -> list[tuple[int, str]]:
    """``(line, code)`` of each block of ``path`` marked runnable; a marker not right above a shell fence fails."""
    lines = path.read_text().splitlines()
    blocks = []
    for number, line in enumerate(lines, start=1):
        if line.strip() != MARKER:
            continue
        fence = lines[number] if number < len(lines) else ""
        assert re.fullmatch(r"```(sh|bash)", fence), f"{path.name}:{number}: {MARKER} is not above a ```sh fence"
        end = lines.index("```", number + 1)
        blocks.append((number + 1, "\n".join(lines[number + 1 : end]) + "\n"))
    return blocks


BLOCKS = [(path, line, code) for path in documents() for line, code in runnable_blocks(path)]


def test_the_readme_and_the_pages_have_runnable_blocks_and_every_marker_is_on_a_shell_block():
    where = {path.name for path, _, _ in BLOCKS}
    assert {"README.md", "own-data.md", "results.md", "commands.md"} <= where
    # A line that looks like the marker but is not exactly it (spaces, case) would leave its block untested.
    looks_like = re.compile(r"\s*<!--\s*runnable\s*-->\s*", flags=re.IGNORECASE)
    written = [line for path in documents() for line in path.read_text().splitlines() if looks_like.fullmatch(line)]
    assert len(written) == len(BLOCKS), [line for line in written if line.strip() != MARKER]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The copy of the work tree, its environment, and the quickstart run in it as ``make run`` runs it."""
    require(shutil.which("git") is not None and (ROOT / ".git").exists(), "not a git work tree")
    require((BIN / "gapsearch").is_file(), f"no gapsearch script in {BIN}: install the package (make run)")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    folder = tmp_path_factory.mktemp("clone") / "gapsearch"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a file deleted in the work tree but still in the index is left out
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    env = {key: value for key, value in os.environ.items() if key not in ("GAPSEARCH_STORAGE", "PYTHONPATH")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(BIN.parent),
        PYTHONPATH=str(folder),  # the copy's package, before the environment's editable install of this one
    )
    quickstart = run_block("gapsearch run studies/quickstart.yaml --n-trials 3 --no-progress\n", folder, env)
    assert quickstart.returncode == 0, quickstart.stdout[-3000:]
    return {"folder": folder, "env": env}


def run_block(code: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", code],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.parametrize(("path", "line", "code"), BLOCKS, ids=[f"{path.name}:{line}" for path, line, _ in BLOCKS])
def test_the_block_runs_as_written(clone, path, line, code):
    result = run_block(code, clone["folder"], clone["env"])
    shown = f"{path.relative_to(ROOT)}:{line}:\n{code}--- printed:\n{result.stdout[-3000:]}"
    assert result.returncode == 0, shown
    assert "Traceback" not in result.stdout, shown
