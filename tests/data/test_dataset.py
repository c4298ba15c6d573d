import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gapsearch.data.dataset import VECTORIZED_CACHE_SIZE, load_splits
from gapsearch.data.text import OOV_ID
from gapsearch.errors import DataError
from gapsearch.spec.data import DelimitedData, SyntheticData, TextSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def synthetic(**settings) -> SyntheticData:
    return SyntheticData(format="synthetic", **settings)


def write_tsv(folder: Path, name: str, rows: list[tuple[str, str]]) -> str:
    lines = ["sentence\tlabel", *(f"{text}\t{label}" for text, label in rows)]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return name


def delimited(**settings) -> DelimitedData:
    return DelimitedData(text="sentence", **settings)


# Synthetic data.


def test_synthetic_split_sizes_and_balance():
    splits = load_splits(synthetic(n_examples=2000, n_classes=2), Path("."), seed=0)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (1200, 400, 400)
    assert splits.class_names == ("class_0", "class_1")
    assert splits.task == "binary"
    for split in (splits.train, splits.validation, splits.test):
        assert set(Counter(split.labels).values()) == {len(split) // 2}
    all_texts = splits.train.texts + splits.validation.texts + splits.test.texts
    assert len(set(all_texts)) == 2000


def test_synthetic_without_test_split():
    splits = load_splits(synthetic(n_examples=100, n_classes=4, test_split=0.0), Path("."), seed=0)
    assert splits.test is None
    assert (len(splits.train), len(splits.validation)) == (80, 20)
    assert splits.task == "multiclass"


def test_synthetic_seed_comes_from_the_study_unless_the_data_sets_one():
    assert load_splits(synthetic(n_examples=100), Path("."), seed=1) == load_splits(
        synthetic(n_examples=100), Path("."), seed=1
    )
    assert load_splits(synthetic(n_examples=100), Path("."), seed=1) != load_splits(
        synthetic(n_examples=100), Path("."), seed=2
    )
    assert load_splits(synthetic(n_examples=100, seed=9), Path("."), seed=1) == load_splits(
        synthetic(n_examples=100, seed=9), Path("."), seed=2
    )


def test_text_settings_come_from_the_spec():
    splits = load_splits(synthetic(n_examples=100, lowercase=False, truncation="pre"), Path("."), seed=0)
    assert splits.settings == TextSettings(lowercase=False, truncation="pre")


# Delimited files.


def test_delimited_with_validation_and_test_files(tmp_path):
    spec = delimited(
        train=write_tsv(tmp_path, "train.tsv", [("good film", "1"), ("bad film", "0"), ("great", "1")]),
        validation=write_tsv(tmp_path, "dev.tsv", [("fine", "1")]),
        test=write_tsv(tmp_path, "test.tsv", [("awful", "0"), ("nice", "1")]),
    )
    splits = load_splits(spec, tmp_path, seed=0)
    assert splits.train.texts == ("good film", "bad film", "great")
    assert splits.validation.labels == ("1",)
    assert splits.test is not None and splits.test.texts == ("awful", "nice")
    assert splits.class_names == ("0", "1")
    x_test, y_test = splits.vectorize_test(max_tokens=100, sequence_length=3)
    np.testing.assert_array_equal(y_test, [0, 1])
    np.testing.assert_array_equal(x_test, [[OOV_ID, 0, 0], [OOV_ID, 0, 0]])


def test_held_out_validation_is_stratified(tmp_path):
    rows = [(f"text {i}", "pos") for i in range(60)] + [(f"text {i}", "neg") for i in range(60, 80)]
    spec = delimited(train=write_tsv(tmp_path, "train.tsv", rows), validation_split=0.25)
    splits = load_splits(spec, tmp_path, seed=3)
    assert Counter(splits.validation.labels) == {"pos": 15, "neg": 5}
    assert Counter(splits.train.labels) == {"pos": 45, "neg": 15}
    assert set(splits.train.texts).isdisjoint(splits.validation.texts)
    assert splits == load_splits(spec, tmp_path, seed=3)
    assert splits != load_splits(spec, tmp_path, seed=4)


def test_numeric_labels_sort_by_value(tmp_path):
    rows = [(f"text {label}", label) for label in ["10", "2", "1", "2", "10", "1"]]
    spec = delimited(train=write_tsv(tmp_path, "train.tsv", rows), validation=write_tsv(tmp_path, "dev.tsv", rows))
    splits = load_splits(spec, tmp_path, seed=0)
    assert splits.class_names == ("1", "2", "10")
    np.testing.assert_array_equal(splits.vectorize(100, 2).y_train, [2, 1, 0, 1, 2, 0])


def test_unseen_validation_label(tmp_path):
    spec = delimited(
        train=write_tsv(tmp_path, "train.tsv", [("good", "1"), ("bad", "0")]),
        validation=write_tsv(tmp_path, "dev.tsv", [("fine", "1"), ("hmm", "maybe")]),
    )
    with pytest.raises(DataError) as raised:
        load_splits(spec, tmp_path, seed=0)
    assert str(raised.value) == (
        f"{tmp_path / 'dev.tsv'}, line 3: label 'maybe' does not occur in the training data (labels there: '0', '1')"
    )


def test_unseen_test_label(tmp_path):
    spec = delimited(
        train=write_tsv(tmp_path, "train.tsv", [("good", "1"), ("bad", "0")]),
        test=write_tsv(tmp_path, "test.tsv", [("what", "2")]),
    )
    with pytest.raises(DataError, match=r"test.tsv, line 2: label '2' does not occur in the training data"):
        load_splits(spec, tmp_path, seed=0)


def test_single_class_training_data(tmp_path):
    spec = delimited(train=write_tsv(tmp_path, "train.tsv", [("good", "1"), ("great", "1")]))
    with pytest.raises(DataError) as raised:
        load_splits(spec, tmp_path, seed=0)
    assert str(raised.value) == (
        f"{tmp_path / 'train.tsv'}: only one class ('1') in the training data; a classifier needs at least 2"
    )


def test_no_test_split_to_vectorize(tmp_path):
    spec = delimited(train=write_tsv(tmp_path, "train.tsv", [("good", "1"), ("bad", "0")] * 3))
    splits = load_splits(spec, tmp_path, seed=0)
    with pytest.raises(DataError) as raised:
        splits.vectorize_test(100, 5)
    assert str(raised.value) == (
        "the data has no test split; set data.test (a file) or data.test_split (synthetic data)"
    )


# Vectorizing.


def test_vocabulary_comes_from_the_train_split_only(tmp_path):
    spec = delimited(
        train=write_tsv(tmp_path, "train.tsv", [("Good film", "1"), ("bad film", "0")]),
        validation=write_tsv(tmp_path, "dev.tsv", [("unseen film!", "1")]),
    )
    vectorized = load_splits(spec, tmp_path, seed=0).vectorize(max_tokens=100, sequence_length=4)
    assert vectorized.vocabulary.tokens == ("", "[UNK]", "film", "bad", "good")
    assert vectorized.vocabulary_size == 5
    np.testing.assert_array_equal(vectorized.x_train, [[4, 2, 0, 0], [3, 2, 0, 0]])
    np.testing.assert_array_equal(vectorized.x_validation, [[OOV_ID, 2, 0, 0]])
    np.testing.assert_array_equal(vectorized.y_train, [1, 0])
    assert vectorized.x_train.dtype == np.int32 and vectorized.y_train.dtype == np.int32


def test_statistics_of_the_train_split(tmp_path):
    spec = delimited(
        train=write_tsv(tmp_path, "train.tsv", [("a a a b", "1"), ("a c", "0")]),
        validation=write_tsv(tmp_path, "dev.tsv", [("a", "1")]),
        truncation="pre",
    )
    vectorized = load_splits(spec, tmp_path, seed=0).vectorize(max_tokens=3, sequence_length=3)
    assert vectorized.oov_rate == pytest.approx(2 / 6)  # b and c fall outside ("", "[UNK]", "a")
    assert vectorized.truncation_rate == pytest.approx(1 / 2)
    np.testing.assert_array_equal(vectorized.x_train, [[2, 2, OOV_ID], [2, OOV_ID, 0]])


def test_vectorize_is_remembered_per_key():
    splits = load_splits(synthetic(n_examples=200), Path("."), seed=0)
    first = splits.vectorize(max_tokens=500, sequence_length=50)
    assert splits.vectorize(max_tokens=500, sequence_length=50) is first
    other = splits.vectorize(max_tokens=500, sequence_length=60)
    assert other is not first and other.x_train.shape == (len(splits.train), 60)
    assert splits.train_tokens is splits.train_tokens  # tokenized once
    for length in range(1, VECTORIZED_CACHE_SIZE + 1):
        splits.vectorize(max_tokens=500, sequence_length=length)
    assert splits.vectorize(max_tokens=500, sequence_length=50) is not first  # evicted, rebuilt


def test_the_data_package_never_imports_keras_or_tensorflow():
    code = (
        "import sys; from pathlib import Path; from gapsearch.data import load_splits; "
        "from gapsearch.spec.data import SyntheticData; "
        "load_splits(SyntheticData(format='synthetic', n_examples=50), Path('.'), 0).vectorize(100, 10); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'torch', 'jax')))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
