"""The README's screenful of output: `gapsearch run studies/quickstart.yaml` in a fresh copy, recorded.

Runs the quickstart as `make run` does (on a fresh SQLite file, the progress bar off, since it redraws in
place), and writes what it printed to results/quickstart_output.json, the clone's folder shown as
`~/gapsearch`. `python -m tests.benchmarks.report` puts it in the README between
``<!-- quickstart:start -->`` and ``<!-- quickstart:end -->``.

    python -m tests.benchmarks.quickstart_output
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks._common import ROOT, cli_env, load_average, write_results


def main() -> None:
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="gapsearch-quickstart-") as folder:
        clone = Path(folder) / "gapsearch"
        (clone / "studies").mkdir(parents=True)
        shutil.copyfile(ROOT / "studies" / "quickstart.yaml", clone / "studies" / "quickstart.yaml")
        env = cli_env()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "gapsearch", "run", "studies/quickstart.yaml", "--no-progress"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
        output = done.stdout.replace(str(clone), "~/gapsearch")
    write_results(
        "quickstart_output",
        {
            "what": "gapsearch run studies/quickstart.yaml --no-progress, in a fresh copy with a fresh database",
            "output": output,
            "seconds": round(seconds, 1),
            "load_before": before,
            "load_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
