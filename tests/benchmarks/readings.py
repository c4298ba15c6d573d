"""The ledger of test-set readings: one entry each time the accuracy benchmark scored a study on its test set.

A test set chooses nothing, but what to tune next can follow what it said: the ledger
(``results/test_readings.json``) lets the accuracy table say how often each row's test set was read, with
which configuration, and what changed between readings. :func:`record` appends a reading as the benchmark
takes it (the row, the shipped study file's sha256, the commit the code ran at, the date, the figure). The
readings from before the ledger existed are reconstructed from git history by :func:`reconstruct`: each
commit of ``results/accuracy.json`` in which a row appears or was run again (its figure, seconds, load or test
metrics changed) counts as one reading, dated by that commit. Runs never committed left no trace, so the
reconstructed counts are a lower bound. MR's "test set" is its ten held-out folds.

    python -m tests.benchmarks.readings   # rebuild the reconstructed entries from git history, keep the rest
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from typing import Any

import yaml

from tests.benchmarks._common import RESULTS, ROOT, git

LEDGER = RESULTS / "test_readings.json"
ACCURACY = "tests/benchmarks/results/accuracy.json"
#: The last commit that wrote results/accuracy.json before the ledger existed: history up to it is
#: reconstructed; every later reading is recorded by the benchmark as it takes it.
RECONSTRUCTED_UNTIL = "1c7659ffaf85003b61965abfee62ee32827a8030"
#: Changes to the product itself (not to a study file) that fell between two readings of a row: the table says
#: each where it falls, with what chose it. ``cases``: the suffixes of the cases it touches.
PRODUCT_CHANGES: tuple[dict[str, Any], ...] = (
    {
        "commit": "2b051472dd115bfa48321adb44c17200f46d78fd",
        "date": "2026-12-07 23:28:09 UTC",
        "what": "the product's vocabulary with pre-trained vectors took the words of the scored texts that have one",
        "chosen_on": "SST-2's dev set, results/sst2_vectors_dev.json",
        "cases": ("-static", "-nonstatic"),
    },
)
#: What one run of a row writes anew: a row in which any of these differ from the previous commit's was run again.
RUN_FIELDS = ("accuracy", "seconds", "load_before", "load_after", "finished_at", "test_metrics", "fold_values")


def case_of(row: dict[str, Any]) -> str:
    """A row's case (the earliest rows named only their dataset)."""
    return row.get("case", row["dataset"])


def configuration(study_text: str, row: dict[str, Any]) -> dict[str, Any]:
    """What the row trained: the study's model section with the row's pinned values, and for a searched row the
    space it searched (a pinned row searches nothing)."""
    study = yaml.safe_load(study_text)
    model = {**study.get("model", {}), **row["pinned"]}
    if row["pinned"]:
        return {"model": model}
    return {"model": model, "search_space": study.get("search_space", {})}


def reading(
    row: dict[str, Any], study_text: str, commit: str, date: str, *, reconstructed: bool, how: str
) -> dict[str, Any]:
    """One ledger entry: the row read its test set at ``commit``, on ``date``."""
    return {
        "case": case_of(row),
        "dataset": row["dataset"],
        "study": row["study"],
        "study_sha256": hashlib.sha256(study_text.encode()).hexdigest(),
        "pinned": row["pinned"],
        **({"best_params": row["best_params"]} if not row["pinned"] and "best_params" in row else {}),
        **configuration(study_text, row),
        **({"seed": row["seed"]} if "seed" in row else {}),
        "accuracy": row["accuracy"],
        "commit": commit,
        "date": date,
        "reconstructed": reconstructed,
        "how": how,
    }


def runs_between(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, str]:
    """The rows of ``after`` that were run since ``before`` (two versions of accuracy.json's rows), each with
    what shows it: new, its figure changed, or its figure the same and its run's record (seconds, load) new."""
    previous = {case_of(row): row for row in before}
    runs = {}
    for row in after:
        old = previous.get(case_of(row))
        if old is None:
            runs[case_of(row)] = "the row first appears"
        elif old["accuracy"] != row["accuracy"]:
            runs[case_of(row)] = f"its figure changed from {old['accuracy']}"
        elif any(old.get(field) != row.get(field) for field in RUN_FIELDS):
            runs[case_of(row)] = "its figure unchanged, its seconds and load new: run again"
    return runs


def reconstruct(until: str = RECONSTRUCTED_UNTIL) -> list[dict[str, Any]]:
    """The readings that git history shows, from the first commit of results/accuracy.json to ``until``."""
    commits = git("log", "--reverse", "--format=%H", until, "--", ACCURACY).split()
    readings: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for commit in commits:
        before, rows = rows, json.loads(git("show", f"{commit}:{ACCURACY}"))["rows"]
        date = _utc(int(git("log", "-1", "--format=%ct", commit)))
        runs = runs_between(before, rows)
        for row in rows:
            if case_of(row) in runs:
                how = f"results/accuracy.json at this commit: {runs[case_of(row)]}"
                readings.append(reading(row, _show(commit, row["study"]), commit, date, reconstructed=True, how=how))
    return readings


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def _show(commit: str, path: str) -> str:
    """The file at ``path`` as ``commit`` holds it, byte for byte (``git`` strips its output)."""
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True, capture_output=True)
    return shown.stdout.decode()


def load() -> list[dict[str, Any]]:
    """The ledger's readings, oldest first (none before it exists)."""
    return json.loads(LEDGER.read_text())["readings"] if LEDGER.exists() else []


def write(readings: list[dict[str, Any]]) -> None:
    body = {
        "ledger": "test readings of the accuracy benchmark (tests/benchmarks/readings.py)",
        "reconstructed_until": RECONSTRUCTED_UNTIL,
        "readings": readings,
    }
    LEDGER.write_text(json.dumps(body, indent=2) + "\n")


def record(row: dict[str, Any]) -> dict[str, Any]:
    """Append the reading ``row`` (an accuracy row) just took, at the commit the code runs at; the tracked files
    with uncommitted changes when it was recorded, if any, are named (they may or may not be part of what ran)."""
    commit = git("rev-parse", "HEAD")
    how = "recorded by python -m tests.benchmarks.accuracy as it read the test set"
    changed = git("diff", "--name-only", "HEAD").split()
    if changed:
        how += f", with uncommitted changes to {', '.join(changed)} when it was recorded"
    entry = reading(row, (ROOT / row["study"]).read_text(), commit, _utc(time.time()), reconstructed=False, how=how)
    write([*load(), entry])
    return entry


def shows(row: dict[str, Any], entries: list[dict[str, Any]]) -> bool:
    """Whether a row's readings (oldest first) end with the figure it shows: its last reading's, or for a row over
    seeds (``seed_values``) its last readings', one per seed in order."""
    if "seed_values" in row:
        seeds = len(row["seed_values"])
        return len(entries) >= seeds and [e["accuracy"] for e in entries[-seeds:]] == row["seed_values"]
    return bool(entries) and entries[-1]["accuracy"] == row["accuracy"]


def by_case() -> dict[str, list[dict[str, Any]]]:
    """The ledger's readings per case, oldest first."""
    cases: dict[str, list[dict[str, Any]]] = {}
    for entry in load():
        cases.setdefault(entry["case"], []).append(entry)
    return cases


def differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What changed in the configuration between two readings: each model value (None where unset) and the
    search space as one value."""
    changed = {}
    for key in [*after["model"], *(key for key in before["model"] if key not in after["model"])]:
        old, new = before["model"].get(key), after["model"].get(key)
        if old != new:
            changed[key] = (old, new)
    if before.get("search_space") != after.get("search_space"):
        changed["search_space"] = (before.get("search_space"), after.get("search_space"))
    for index, change in enumerate(PRODUCT_CHANGES):
        if after["case"].endswith(change["cases"]) and before["date"] < change["date"] <= after["date"]:
            changed[f"product:{index}"] = (None, None)
    return changed


def stretches(entries: list[dict[str, Any]]) -> list[tuple[dict[str, tuple[Any, Any]], list[dict[str, Any]]]]:
    """A case's readings in runs of one configuration, oldest first, each with what changed before it (nothing
    for the first)."""
    runs: list[tuple[dict[str, tuple[Any, Any]], list[dict[str, Any]]]] = []
    for entry in entries:
        changed = differences(runs[-1][1][-1], entry) if runs else {}
        if runs and not changed:
            runs[-1][1].append(entry)
        else:
            runs.append((changed, [entry]))
    return runs


def main() -> None:
    kept = [entry for entry in load() if not entry["reconstructed"]]
    readings = reconstruct()
    write(readings + kept)
    print(f"wrote {LEDGER.relative_to(ROOT)}: {len(readings)} readings reconstructed, {len(kept)} recorded kept")


if __name__ == "__main__":
    main()
