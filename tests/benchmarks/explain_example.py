"""The README's and the explain page's real example: studies/sst2-explain.yaml trained, exported, explained.

Runs, in a fresh folder (a copy of the study file with its data paths made absolute, a fresh database and
artifact store), what the page shows a user running:

    gapsearch run studies/sst2-explain.yaml
    gapsearch export studies/sst2-explain.yaml -o sst2-explain.keras
    gapsearch explain sst2-explain.keras "a gorgeous , witty , seductive movie ." "the plot is dull and far too long"

and writes the commands and what they printed to results/explain_example.json; `python -m
tests.benchmarks.report` puts them between ``<!-- explain-example:start -->`` and
``<!-- explain-example:end -->`` in README.md and docs/pages/explain.md. About a minute on 2 CPU cores.

    python -m tests.benchmarks.explain_example
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks._common import cli_env, load_average, shipped_study, write_results

TEXTS = ("a gorgeous , witty , seductive movie .", "the plot is dull and far too long")
COMMANDS = (
    ("run", "studies/sst2-explain.yaml", "--no-progress"),
    ("export", "studies/sst2-explain.yaml", "-o", "sst2-explain.keras"),
    ("explain", "sst2-explain.keras", *TEXTS),
)


def _shown(args: tuple[str, ...]) -> str:
    """The command as a user types it (the progress bar's switch left out)."""
    words = ["gapsearch", *(a for a in args if a != "--no-progress")]
    return " ".join(f'"{w}"' if " " in w else w for w in words)


def main() -> None:
    before = load_average()
    steps = []
    with tempfile.TemporaryDirectory(prefix="gapsearch-explain-") as folder:
        studies = Path(folder) / "studies"
        studies.mkdir()
        (studies / "sst2-explain.yaml").write_text(shipped_study("sst2-explain.yaml"))
        env = cli_env(NO_COLOR="1")
        for args in COMMANDS:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "gapsearch", *args], cwd=folder, env=env, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise SystemExit(f"{_shown(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
            steps.append(
                {
                    "command": _shown(args),
                    "output": done.stdout.replace(folder, "."),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
    write_results("explain_example", {"steps": steps, "load_before": before, "load_after": load_average()})


if __name__ == "__main__":
    main()
