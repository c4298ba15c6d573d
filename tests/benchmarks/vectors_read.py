"""Reading pre-trained vectors: the 400,000-word gzipped GloVe file, first and cached, before and now.

The shipped MR study (``studies/mr.yaml``: 10 folds, so 10 vocabularies) with
``embedding: {vectors: ../shared/vectors/glove.6B.50d.txt.gz}``, as a trial meets it. Each measurement is a
fresh process (as a new study or worker is) whose ids are already cached, so only the vectors are timed:

- ``first``: an empty vectors cache: the file hashed and read for the words of MR's texts, and looked up for
  the first fold's vocabulary (``StudyData.vectors``); then each other fold's vocabulary looked up (what a
  trial's further folds cost).
- ``cached``: a new process over the cache ``first`` left: the 10 folds' matrices.

``before`` is the code of ``--before`` (the last commit before vectors were read as bytes and cached by
content alone), checked out in a temporary worktree; ``now`` this checkout. They take turns, ``--rounds``
times; medians. Also recorded: the share of MR's distinct words and of its tokens that have a vector.

Writes ``results/vectors_read.json``; ``python -m tests.benchmarks.report`` renders it on docs/pages/data.md.

    python -m tests.benchmarks.vectors_read [--rounds 3] [--before COMMIT]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

# Only names the --before commit's tests/benchmarks/_common.py has too: a side imports this module there.
from tests.benchmarks._common import DATASETS, ROOT, load_average, run_script, write_results

VECTORS = ROOT.parent / "shared" / "vectors" / "glove.6B.50d.txt.gz"
#: The last commit that parsed every line as text and hashed the file in every process.
BEFORE = "73f503d"


def study() -> dict[str, Any]:
    """The shipped MR study with the GloVe file as its embedding (fine-tuned, as the default)."""
    import yaml

    spec = yaml.safe_load((ROOT / "studies" / "mr.yaml").read_text().replace("../../shared/datasets", str(DATASETS)))
    spec["model"].update({"embedding_dim": 50, "embedding": {"vectors": str(VECTORS)}})
    spec["search_space"] = {"pooling": ["max"]}
    return spec


def read_side(config: dict[str, Any]) -> dict[str, Any]:
    """Time ``StudyData.vectors`` for every fold, in a process whose gapsearch comes from its PYTHONPATH."""
    from gapsearch.data.cache import StudyData
    from gapsearch.spec.study import StudySpec

    raw = config["study"]
    spec = StudySpec.model_validate({**raw, "data": {**raw["data"], "cache_dir": config["cache"]}})
    data = StudyData(spec.data, Path(config["cache"]), spec.seed)
    model, path = spec.model, Path(config["vectors"])
    runs = data.runs(model.max_tokens, int(model.sequence_length))  # the ids: cached before anything is timed
    seconds = []
    for _, run in runs:
        started = time.perf_counter()
        data.vectors(run.vocabulary, path)
        seconds.append(time.perf_counter() - started)
    return {
        "seconds": seconds,
        "built": [name for name in data.built if "vectors" in name or "words" in name or "digest" in name],
        "coverage": data.vectors_coverage(path),
    }


def _measure(tree: Path, folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """One round at ``tree``: a first read in a fresh vectors cache, then a cached read in a new process."""
    from tests.benchmarks._common import run_side_in

    cache = folder / "cache"
    for entry in cache.glob("*"):  # keep the ids (the data's entries); drop every vectors entry
        if any(part in entry.name for part in ("vectors", "words", "digest")):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    script = Path(__file__).resolve()
    first = run_side_in(tree, script, "read", {**config, "cache": str(cache)})
    cached = run_side_in(tree, script, "read", {**config, "cache": str(cache)})
    assert not cached["built"], f"the second process built {cached['built']}"
    return {
        "first_seconds": first["seconds"][0],
        "further_vocabulary_seconds": statistics.median(first["seconds"][1:]),
        "cached_seconds": sum(cached["seconds"]),
        "folds": len(first["seconds"]),
        "coverage": first["coverage"],
    }


def main() -> None:
    from tests.benchmarks._common import git, worktree_at

    parser = argparse.ArgumentParser(description="Reading the GloVe file: first and cached, before and now")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    if not VECTORS.is_file():
        raise SystemExit(f"{VECTORS} is missing: the GloVe 6B 50d file this benchmark reads")
    before = git("rev-parse", "--short", args.before)
    config = {"study": study(), "vectors": str(VECTORS)}
    load_before = load_average()
    rounds: dict[str, list[dict[str, Any]]] = {"before": [], "now": []}
    with (
        tempfile.TemporaryDirectory(prefix="gapsearch-vectors-read-") as tmp,
        worktree_at(before, Path(tmp) / "before-tree") as before_tree,
    ):
        trees = {"before": before_tree, "now": ROOT}
        for number in range(args.rounds):
            for side, tree in trees.items():
                result = _measure(tree, Path(tmp) / side, config)
                rounds[side].append(result)
                print(
                    f"round {number + 1}/{args.rounds} {side}: first {result['first_seconds']:.2f} s, further "
                    f"vocabulary {result['further_vocabulary_seconds']:.3f} s, cached ({result['folds']} folds) "
                    f"{result['cached_seconds']:.3f} s; {result['coverage']}",
                    flush=True,
                )
    summary = {
        side: {
            key: round(statistics.median(r[key] for r in results), 3)
            for key in ("first_seconds", "further_vocabulary_seconds", "cached_seconds")
        }
        for side, results in rounds.items()
    }
    write_results(
        "vectors_read",
        {
            "what": f"{VECTORS.name} (400,000 words, 50 dimensions, gzipped) for studies/mr.yaml's texts "
            "(10 folds: 10 vocabularies), each read in a fresh process with the ids already cached",
            "vectors_bytes": VECTORS.stat().st_size,
            "rounds": args.rounds,
            "before": {"commit": before, "subject": git("log", "-1", "--format=%s", before)[:200]},
            "now": {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))},
            "coverage": rounds["now"][-1]["coverage"],
            "summary": summary,
            "runs": rounds,
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    )


if __name__ == "__main__":
    run_script(main, {"read": read_side})
