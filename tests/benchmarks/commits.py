"""``gapsearch run`` at several commits, taking turns: what a change to the trial code bought.

Each commit is checked out into a temporary git worktree, and ``python -m gapsearch run`` with that
commit's code (``PYTHONPATH`` set to the worktree) runs one study file that this checkout writes:
the first search space of :mod:`tests.benchmarks.kerastuner_search` on MR with 20% held out, its
fixed settings, 10 trials, ``sampler: random`` with a fixed seed and no pruner, so that every
commit runs the same trials and a change that kept the results gives the same best value. A commit
must read that study file (``length_buckets``, ``pruner: {type: none}``). Wall time is the process
from start to exit.

    python -m tests.benchmarks.commits COMMIT [COMMIT ...] [--rounds N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.benchmarks._common import ROOT, gapsearch_cli, load_average, prepare_mr, write_results
from tests.benchmarks.kerastuner_search import FIXED, SPACES

N_TRIALS = 10
SEED = 5


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def _study(folder: Path, name: str) -> Path:
    """The study file every commit runs (in ``folder``, beside the MR file)."""
    body = {
        "name": name,
        "metric": "val_accuracy",
        "direction": "maximize",
        "n_trials": N_TRIALS,
        "seed": SEED,
        "sampler": {"type": "random"},
        "pruner": {"type": "none"},
        "data": {"format": "tsv", "train": "mr.tsv", "text": "text", "label": "label", "validation_split": 0.2},
        "model": dict(FIXED),
        "search_space": next(iter(SPACES.values())),
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def _search(tree: Path, folder: Path, name: str) -> dict[str, Any]:
    """``gapsearch run`` of the study with the code of ``tree``: its wall time, best value and epochs trained."""
    import optuna

    path = _study(folder, name)
    storage = f"sqlite:///{folder / name}.db"
    started = time.time()
    gapsearch_cli("run", path.name, "--no-progress", "--storage", storage, cwd=folder, root=tree)
    seconds = time.time() - started
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    return {
        "seconds": seconds,
        "best_val_accuracy": max(t.value for t in complete),
        "epochs_trained": sum(len(t.intermediate_values) for t in trials),
    }


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
            print(f"gapsearch run at {len(commits)} commits, {rounds} rounds in turns", flush=True)
            for round_number in range(rounds):
                for commit, tree in trees.items():
                    result = _search(tree, folder, f"commits-{commit}-{round_number}")
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
            "what": f"`gapsearch run` of a {N_TRIALS}-trial random search (seed {SEED}, no pruner) of (b)'s first "
            "space on MR with the code of each commit, the commits taking turns",
            "rounds": rounds,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "commits": summary,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
