"""The ledger of test readings (tests/benchmarks/readings.py): what counts as a reading, and its history."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

from tests.benchmarks import readings
from tests.conftest import ROOT, require


def row(case: str, accuracy: float, seconds: float, pinned: dict | None = None) -> dict:
    return {"case": case, "dataset": case.split("-")[0], "study": f"studies/{case}.yaml", "pinned": pinned or {},
            "accuracy": accuracy, "seconds": seconds, "load_before": [1.0], "load_after": [2.0]}  # fmt: skip


def test_a_row_is_read_when_it_appears_when_its_figure_changes_and_when_it_only_ran_again():
    before = [row("mr", 76.79, 387.1), row("sst2", 83.47, 155.5), row("sst5", 41.54, 36.9)]
    after = [row("mr", 76.79, 387.1), row("sst2", 83.47, 79.9), row("sst5", 39.46, 21.0), row("imdb", 87.8, 173.8)]
    assert readings.runs_between(before, after) == {
        "sst2": "its figure unchanged, its seconds and load new: run again",
        "sst5": "its figure changed from 41.54",
        "imdb": "the row first appears",
    }
    # The earliest rows named only their dataset.
    unnamed = {key: value for key, value in row("mr", 76.79, 387.1).items() if key != "case"}
    assert readings.runs_between([], [unnamed]) == {"mr": "the row first appears"}


def test_readings_group_into_stretches_of_one_configuration_each_with_what_changed_before_it():
    study = "model: {max_tokens: 20000, length_buckets: 4}\n"
    later = "model: {max_tokens: 5000}\n"

    def read(accuracy: float, pooling: str, text: str, commit: str) -> dict:
        entry = row("imdb", accuracy, 1, {"pooling": pooling})
        return readings.reading(entry, text, commit * 40, "d", reconstructed=True, how="")

    entries = [read(87.8, "max", study, "a"), read(87.63, "attention", study, "b")]
    entries += [read(88.98, "attention", later, "c"), read(89.02, "attention", later, "d")]
    stretches = readings.stretches(entries)
    assert [(changed, [e["accuracy"] for e in run]) for changed, run in stretches] == [
        ({}, [87.8]),
        ({"pooling": ("max", "attention")}, [87.63]),
        ({"max_tokens": (20000, 5000), "length_buckets": (4, None)}, [88.98, 89.02]),
    ]
    assert entries[0]["study_sha256"] != entries[2]["study_sha256"] and "search_space" not in entries[0]


def test_a_product_change_between_two_readings_of_a_row_it_touches_starts_a_stretch_of_its_own(monkeypatch):
    change = {"commit": "f" * 40, "date": "2026-12-07 23:00:00 UTC", "what": "w", "chosen_on": "c", "cases": ("-x",)}
    monkeypatch.setattr(readings, "PRODUCT_CHANGES", (change,))
    study = "model: {max_tokens: 20000}\n"

    def read(case: str, accuracy: float, date: str) -> dict:
        return readings.reading(
            row(case, accuracy, 1, {"pooling": "max"}), study, "a" * 40, date, reconstructed=False, how=""
        )

    early, late = "2026-12-07 22:00:00 UTC", "2026-12-07 23:30:00 UTC"
    touched = readings.stretches([read("mr-x", 70.0, early), read("mr-x", 71.0, early), read("mr-x", 72.0, late)])
    assert [(changed, [e["accuracy"] for e in run]) for changed, run in touched] == [
        ({}, [70.0, 71.0]),
        ({"product:0": (None, None)}, [72.0]),
    ]
    untouched = readings.stretches([read("mr-y", 70.0, early), read("mr-y", 72.0, late)])
    assert [[e["accuracy"] for e in run] for _, run in untouched] == [[70.0, 72.0]]


def test_record_appends_a_reading_with_the_commit_and_the_study_files_hash(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(readings, "LEDGER", tmp_path / "test_readings.json")
    readings.write([{"case": "mr", "reconstructed": True}])
    entry = readings.record({**row("sst5-phrases", 45.1, 600.0, {"pooling": "max"}), "dataset": "sst5"})
    ledger = json.loads((tmp_path / "test_readings.json").read_text())
    assert ledger["readings"][-1] == entry and len(ledger["readings"]) == 2
    assert entry["commit"] == subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=ROOT, text=True).strip()
    shipped = (ROOT / "studies" / "sst5-phrases.yaml").read_bytes()
    assert entry["study_sha256"] == hashlib.sha256(shipped).hexdigest()
    assert (entry["case"], entry["dataset"], entry["accuracy"]) == ("sst5-phrases", "sst5", 45.1)
    assert not entry["reconstructed"] and entry["model"]["pooling"] == "max"
    # The tracked files changed since the commit, if any, are named: they may be part of what ran.
    changed = subprocess.check_output(["git", "diff", "--name-only", "HEAD"], cwd=ROOT, text=True).split()
    assert entry["how"] == "recorded by python -m tests.benchmarks.accuracy as it read the test set" + (
        f", with uncommitted changes to {', '.join(changed)} when it was recorded" if changed else ""
    )


def test_a_row_over_seeds_is_shown_by_its_last_readings_one_per_seed_in_order():
    """A row over seeds shows their mean; its last readings are the seeds' figures (report and test_docs check)."""
    seeds = {**row("sst2-nonstatic", 82.48, 650.6), "seed_values": [81.22, 83.47, 82.76]}
    read = [{"accuracy": a} for a in (80.0, 81.22, 83.47, 82.76)]
    assert readings.shows(seeds, read) and not readings.shows(seeds, read[:-1]) and not readings.shows(seeds, read[2:])
    assert not readings.shows(seeds, [*read[:1], *read[2:], read[1]])  # order matters
    assert readings.shows(row("mr", 76.16, 303.0), [{"accuracy": 70.0}, {"accuracy": 76.16}])
    assert not readings.shows(row("mr", 76.16, 303.0), [{"accuracy": 76.16}, {"accuracy": 70.0}])
    assert not readings.shows(row("mr", 76.16, 303.0), [])
    # A reading keeps the seed it trained with.
    entry = readings.reading({**row("sst2-rand50", 82.59, 1.0, {"pooling": "attention"}), "seed": 1}, "model: {}\n",
                             "c" * 40, "d", reconstructed=False, how="")  # fmt: skip
    assert entry["seed"] == 1


def test_the_ledgers_reconstructed_readings_are_what_git_history_shows():
    """Reconstructing again from `git log` of results/accuracy.json gives the ledger's reconstructed entries."""
    known = subprocess.run(["git", "cat-file", "-e", f"{readings.RECONSTRUCTED_UNTIL}^{{commit}}"], cwd=ROOT)
    require(known.returncode == 0, f"this checkout's git history lacks {readings.RECONSTRUCTED_UNTIL}")
    reconstructed = [entry for entry in readings.load() if entry["reconstructed"]]
    assert reconstructed == readings.reconstruct()
    # The account: SST-2 82.48 with max before attention was pinned; IMDB 87.8, then 87.63, then 88.98.
    assert [(e["accuracy"], e["pinned"]["pooling"]) for e in reconstructed if e["case"] == "sst2"][:2] == [
        (82.48, "max"), (83.47, "attention")
    ]  # fmt: skip
    assert [e["accuracy"] for e in reconstructed if e["case"] == "imdb"] == [87.8, 87.63, 88.98, 89.02]
    assert Counter(entry["case"] for entry in reconstructed) == {
        "mr": 1, "sst2": 4, "sst5": 3, "imdb": 4, "sst2-search": 2, "sst5-search": 2, "imdb-all": 3, "imdb-search": 1
    }  # fmt: skip
