"""The vectorized-data cache: shared across processes, built once, invalidated by content and settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter

from gapsearch.data.cache import StudyData
from gapsearch.data.dataset import load_splits
from gapsearch.spec.data import DataSpec
from tests.conftest import cli_env

SPEC = TypeAdapter(DataSpec)
ROWS = [("good film", "pos"), ("bad film", "neg"), ("great fun", "pos"), ("awful plot", "neg")] * 5


def make_data(folder: Path, **settings) -> DataSpec:
    lines = ["text,label", *(f"{text} {i},{label}" for i, (text, label) in enumerate(ROWS))]
    (folder / "train.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "test.csv").write_text("text,label\nsecretword film,pos\n", encoding="utf-8")
    return SPEC.validate_python({"train": "train.csv", "test": "test.csv", **settings})


PROBE = """
import json, sys
from pathlib import Path
from pydantic import TypeAdapter
from gapsearch.data.cache import StudyData
from gapsearch.spec.data import DataSpec
spec = TypeAdapter(DataSpec).validate_python(json.loads(sys.argv[2]))
data = StudyData(spec, Path(sys.argv[1]), 0)
runs = data.runs(50, 4)
print(json.dumps({"built": data.built, "x": [r.x_train.tolist() for _, r in runs],
                  "read_texts": "splits" in data.__dict__}))
"""


def probe(folder: Path, settings: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), json.dumps(settings)],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)


def test_a_second_process_reads_the_cache_without_rebuilding_or_reading_texts(tmp_path):
    settings = {"train": "train.csv", "folds": 2}
    make_data(tmp_path)
    first = probe(tmp_path, settings)
    assert len(first["built"]) == 3  # the info entry and one per fold
    second = probe(tmp_path, settings)
    assert second["built"] == [] and second["read_texts"] is False
    assert second["x"] == first["x"]
    entries = sorted(p.name for p in (tmp_path / ".gapsearch-cache").iterdir() if p.is_dir())
    assert len(entries) == 3 and not any(name.startswith(".") for name in entries)


def test_concurrent_processes_build_each_entry_once(tmp_path):
    settings = {"train": "train.csv", "validation_split": 0.25}
    make_data(tmp_path)
    command = [sys.executable, "-c", PROBE, str(tmp_path), json.dumps(settings)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=cli_env()) for _ in range(4)]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in processes]
    built = [name for output in outputs for name in output["built"]]
    assert len(built) == len(set(built)) == 2
    assert all(output["x"] == outputs[0]["x"] for output in outputs)


def test_a_changed_file_or_setting_makes_a_new_entry(tmp_path):
    spec = make_data(tmp_path)
    StudyData(spec, tmp_path, 0).runs(50, 4)
    again = StudyData(spec, tmp_path, 0)
    again.runs(50, 4)
    assert again.built == []
    assert StudyData(spec, tmp_path, 1).key != again.key  # the seed changes the split
    other_length = StudyData(spec, tmp_path, 0)
    other_length.runs(50, 5)
    assert [name.rsplit("-", 3)[1:] for name in other_length.built] == [["validation", "50", "5"]]
    lowercase = StudyData(make_data(tmp_path, lowercase=False), tmp_path, 0)
    lowercase.runs(50, 4)
    assert len(lowercase.built) == 2
    with (tmp_path / "train.csv").open("a", encoding="utf-8") as handle:
        handle.write("one more,pos\n")
    changed = StudyData(spec, tmp_path, 0)
    changed.runs(50, 4)
    assert len(changed.built) == 2 and changed.info.counts["train"] + changed.info.counts["validation"] == 21


def test_a_corrupt_entry_is_detected_and_rebuilt(tmp_path):
    spec = make_data(tmp_path)
    data = StudyData(spec, tmp_path, 0)
    expected = data.runs(50, 4)[0][1].x_train.copy()
    entry = tmp_path / ".gapsearch-cache" / data.built[-1]
    array = entry / "x_train.npy"
    array.write_bytes(array.read_bytes()[:-7])  # truncated, as by a crash or a full disk
    fresh = StudyData(spec, tmp_path, 0)
    np.testing.assert_array_equal(fresh.runs(50, 4)[0][1].x_train, expected)
    assert fresh.rebuilt_corrupt == [entry.name]


def test_cached_arrays_are_read_only_memory_maps(tmp_path):
    spec = make_data(tmp_path)
    StudyData(spec, tmp_path, 0).runs(50, 4)
    x_train = StudyData(spec, tmp_path, 0).runs(50, 4)[0][1].x_train
    assert isinstance(x_train, np.memmap) and not x_train.flags.writeable


# Leakage.


def test_each_folds_vocabulary_comes_from_its_training_rows_only(tmp_path):
    spec = make_data(tmp_path, folds=2)
    splits = load_splits(spec, tmp_path, seed=0)
    folds = np.asarray(splits.folds)
    for index, name in enumerate(splits.run_names()):
        run = StudyData(spec, tmp_path, 0).run(name, 100, 4)
        held_words = {splits.train.texts[i].split()[-1] for i in np.flatnonzero(folds == index)}
        assert held_words.isdisjoint(run.vocabulary.tokens)  # each text's number is unique to it
        assert len(run.x_validation) == (folds == index).sum()


def test_an_inner_split_of_each_folds_training_rows_chooses_its_epochs(tmp_path):
    """Train, inner split and fold partition the rows; the vocabulary knows neither held-out part; cached as built."""
    spec = make_data(tmp_path, folds=2, inner_validation_split=0.25)
    splits = load_splits(spec, tmp_path, seed=0)
    folds = np.asarray(splits.folds)
    number = {text.split()[-1]: i for i, text in enumerate(splits.train.texts)}
    for index, name in enumerate(splits.run_names()):
        built = StudyData(spec, tmp_path, 0).run(name, 100, 4)
        run = StudyData(spec, tmp_path, 0).run(name, 100, 4)  # read back from the cache
        assert run.x_held_out is not None and run.y_held_out is not None
        np.testing.assert_array_equal(run.x_held_out, built.x_held_out)
        fold_rows = set(np.flatnonzero(folds == index).tolist())
        assert len(run.x_held_out) == len(fold_rows)
        assert (len(run.x_train), len(run.x_validation)) == (8, 2)  # 10 rows outside the fold, a quarter held
        vocabulary = set(run.vocabulary.tokens)
        trained = {i for word, i in number.items() if word in vocabulary}
        assert trained.isdisjoint(fold_rows) and len(trained) == 8
        # Both classes on both sides of the inner split.
        assert set(run.y_validation.tolist()) == {0, 1} and set(run.y_train.tolist()) == {0, 1}
    assert StudyData(spec, tmp_path, 0).key != StudyData(make_data(tmp_path, folds=2), tmp_path, 0).key


def test_the_test_split_never_reaches_the_search(tmp_path):
    spec = make_data(tmp_path)
    data = StudyData(spec, tmp_path, 0)
    run = data.runs(50, 4)[0][1]
    assert data.splits.test is None
    assert "secretword" not in run.vocabulary.tokens
    assert len(run.x_train) + len(run.x_validation) == len(ROWS)
    final = load_splits(spec, tmp_path, seed=0).vectorize_final(50, 4, include_validation=True)
    assert "secretword" not in final.vocabulary.tokens and len(final.x_validation) == 1
