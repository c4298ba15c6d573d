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

import tempfile
from pathlib import Path

from tests.benchmarks._common import load_average, record_commands, shipped_study, write_results

TEXTS = ("a gorgeous , witty , seductive movie .", "the plot is dull and far too long")
COMMANDS = (
    ("run", "studies/sst2-explain.yaml", "--no-progress"),
    ("export", "studies/sst2-explain.yaml", "-o", "sst2-explain.keras"),
    ("explain", "sst2-explain.keras", *TEXTS),
)


def main() -> None:
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="gapsearch-explain-") as folder:
        studies = Path(folder) / "studies"
        studies.mkdir()
        (studies / "sst2-explain.yaml").write_text(shipped_study("sst2-explain.yaml"))
        steps = record_commands(Path(folder), COMMANDS)
    write_results("explain_example", {"steps": steps, "load_before": before, "load_after": load_average()})


if __name__ == "__main__":
    main()
