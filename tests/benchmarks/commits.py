"""gapsearch's side of (b) at several commits, taking turns: what a change to the trial code bought.

Each commit is checked out into a temporary git worktree and runs the 20-trial random search of
:mod:`tests.benchmarks.kerastuner_search` (its ``--side gapsearch``) with that commit's code, on the
MR file this checkout prepares. The sampler is ``random`` at every commit (the only one this
benchmark ran before ``grid``), so every commit runs the same trials, and a change that kept the
results gives the same best value and epochs.

    python -m tests.benchmarks.commits COMMIT [COMMIT ...] [--rounds N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.benchmarks._common import ROOT, load_average, prepare_mr, run_side, write_results

CONFIG = {"epochs": 3, "n_trials": 20, "pruner": "{type: median}", "tuner": "random", "sampler": "random"}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def _search(tree: Path, folder: Path) -> dict[str, Any]:
    """The gapsearch side of (b), run with the code of ``tree``."""
    return run_side("tests.benchmarks.kerastuner_search", "gapsearch", {**CONFIG, "folder": str(folder)}, root=tree)


def main() -> None:
    args = sys.argv[1:]
    rounds = 2
    if "--rounds" in args:
        at = args.index("--rounds")
        rounds = int(args[at + 1])
        del args[at : at + 2]
    if not args:
        sys.exit("usage: python -m tests.benchmarks.commits COMMIT [COMMIT ...] [--rounds N]")
    commits = [_git("rev-parse", "--short", commit) for commit in args]
    runs: dict[str, list[dict[str, Any]]] = {commit: [] for commit in commits}
    with tempfile.TemporaryDirectory(prefix="gapsearch-commits-") as tmp:
        folder = Path(tmp)
        prepare_mr(folder)
        trees = {commit: folder / commit for commit in commits}
        for commit, tree in trees.items():
            _git("worktree", "add", "--detach", str(tree), commit)
        load_before = load_average()
        try:
            print(f"gapsearch's side of (b) at {len(commits)} commits, {rounds} rounds in turns", flush=True)
            for round_number in range(rounds):
                for commit, tree in trees.items():
                    result = _search(tree, folder)
                    runs[commit].append(result)
                    print(f"  round {round_number + 1}/{rounds} {commit}: {result['seconds']:.1f}s", flush=True)
        finally:
            for tree in trees.values():
                _git("worktree", "remove", "--force", str(tree))
        load_after = load_average()
    summary = [
        {
            "commit": commit,
            "subject": _git("log", "-1", "--format=%s", commit),
            "seconds": round(statistics.median(r["seconds"] for r in runs[commit]), 1),
            "round_seconds": [round(r["seconds"], 1) for r in runs[commit]],
            "best_val_accuracy": sorted({round(r["best_val_accuracy"], 4) for r in runs[commit]}),
            "epochs_trained": sorted({r["epochs_trained"] for r in runs[commit]}),
        }
        for commit in commits
    ]
    for row in summary:
        print(f"{row['commit']}: {row['seconds']}s {row['round_seconds']} best {row['best_val_accuracy']}")
    write_results(
        "commits",
        {
            "what": "gapsearch's side of (b) (20-trial random search on MR, 3 epochs, `sampler: random`, median "
            "pruner) with the code of each commit, the commits taking turns",
            "rounds": rounds,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "commits": summary,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
