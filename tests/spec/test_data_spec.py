"""The data section of a study file: one class per format, checked before anything is read."""

from __future__ import annotations

import pytest

from gapsearch.errors import StudyFileError
from gapsearch.spec import load_study

HEAD = "name: x\nmetric: val_accuracy\ndirection: maximize\nn_trials: 1\n"


def errors_of(tmp_path, data: str) -> tuple[str, ...]:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + f"data: {data}\n")
    with pytest.raises(StudyFileError) as raised:
        load_study(path)
    return raised.value.errors


def test_unknown_format(tmp_path):
    assert errors_of(tmp_path, "{format: xml, train: a.xml}") == (
        f"{tmp_path / 's.yaml'}: data.format: 'xml' is not allowed; expected one of 'synthetic', 'keras', 'csv', "
        "'tsv', 'jsonl', 'parquet', 'directory', 'class_files'",
    )


def test_missing_class_files_and_folders(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    assert errors_of(tmp_path, "{train: {pos: a.txt, neg: b.txt}}") == (
        f"{tmp_path / 's.yaml'}: data.train.neg: no such file 'b.txt' (looked in {tmp_path})",
    )
    assert errors_of(tmp_path, "{train: reviews/train}") == (
        f"{tmp_path / 's.yaml'}: data.train: no such folder 'reviews/train' (looked in {tmp_path})",
    )


def test_folds_exclude_a_validation_file(tmp_path):
    for name in ("t.csv", "v.csv"):
        (tmp_path / name).write_text("text,label\na,1\n")
    assert errors_of(tmp_path, "{train: t.csv, validation: v.csv, folds: 5}") == (
        f"{tmp_path / 's.yaml'}: data: folds and a validation file exclude each other; drop one of them",
    )


def test_sequence_length_auto_and_numbers(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        HEAD + "data: {format: synthetic}\nmodel: {sequence_length: auto}\n"
        "search_space: {max_tokens: {low: 100, high: 300, step: 100}}\n"
    )
    assert load_study(path).model.sequence_length == "auto"
    path.write_text(HEAD + "data: {format: synthetic}\nsearch_space: {sequence_length: [auto, 50, 100]}\n")
    assert load_study(path).search_space["sequence_length"].choices == ("auto", 50, 100)


def test_an_inner_validation_split_needs_folds(tmp_path):
    (tmp_path / "t.csv").write_text("text,label\na,1\n")
    assert errors_of(tmp_path, "{train: t.csv, inner_validation_split: 0.1}") == (
        f"{tmp_path / 's.yaml'}: data: inner_validation_split: 0.1 needs folds (it splits each fold's training "
        "rows); set data.folds or drop it",
    )
    assert errors_of(tmp_path, "{train: t.csv, folds: 5, inner_validation_split: 1.5}") == (
        f"{tmp_path / 's.yaml'}: data.inner_validation_split: must be < 1.0, but got 1.5",
    )
