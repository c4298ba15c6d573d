"""Every source format, on the real files in ../shared/datasets and on small files made here."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import TypeAdapter

from gapsearch.data.dataset import load_splits
from gapsearch.data.sources import read_source
from gapsearch.errors import DataError
from gapsearch.spec.data import (
    ClassFilesData,
    DataSpec,
    DelimitedData,
    DirectoryData,
    JsonLinesData,
    KerasData,
    ParquetData,
)

SPEC = TypeAdapter(DataSpec)


def data_spec(**raw):
    return SPEC.validate_python(raw)


def error_of(spec, base_dir: Path, with_test: bool = False) -> str:
    with pytest.raises(DataError) as raised:
        load_splits(spec, base_dir, seed=0, with_test=with_test)
    return str(raised.value)


# format: auto picks the class from train.


@pytest.mark.parametrize(
    ("train", "kind"),
    [
        ("a.csv", DelimitedData),
        ("a.tsv", DelimitedData),
        ("a.jsonl", JsonLinesData),
        ("data/*.parquet", ParquetData),
        ("aclImdb/train", DirectoryData),
        ({"pos": "p.txt", "neg": "n.txt"}, ClassFilesData),
    ],
)
def test_auto_format_follows_train(train, kind):
    assert type(data_spec(train=train)) is kind


def test_unknown_format_is_refused():
    with pytest.raises(Exception, match="'xml'"):
        data_spec(format="xml", train="a.xml")


# The real datasets.


def test_parquet_imdb(datasets):
    spec = data_spec(train="imdb/train.parquet", test="imdb/test.parquet")
    splits = load_splits(spec, datasets, seed=0)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (20000, 5000, 25000)
    assert splits.task == "binary" and splits.class_names == ("0", "1")
    assert Counter(splits.y_test.tolist()) == {0: 12500, 1: 12500}
    assert any("<br />" in text for text in splits.train.texts[:200])


def test_parquet_rating_as_regression(datasets):
    spec = data_spec(train="imdb/test.parquet", label="rating", task="regression")
    splits = load_splits(spec, datasets, seed=0)
    assert splits.task == "regression" and splits.class_names == ()
    assert splits.y_train.dtype == np.float32 and set(np.unique(splits.y_train)) <= set(range(1, 11))


def test_directory_acl_imdb_sample(datasets):
    spec = data_spec(train="imdb/aclImdb_sample/train", test="imdb/aclImdb_sample/test")
    assert type(spec) is DirectoryData
    splits = load_splits(spec, datasets, seed=0)
    assert splits.class_names == ("neg", "pos")
    assert len(splits.train) + len(splits.validation) == 500 and len(splits.test) == 500
    assert splits.test.locations[0].endswith(".txt")


def test_class_files_mr(datasets):
    spec = data_spec(train={"pos": "mr/rt-polarity.pos", "neg": "mr/rt-polarity.neg"}, encoding="latin-1", folds=10)
    splits = load_splits(spec, datasets, seed=0)
    assert len(splits.train) == 10662 and splits.validation is None
    assert Counter(splits.train.labels) == {"pos": 5331, "neg": 5331}
    assert splits.run_names() == [f"fold_{i}" for i in range(1, 11)]
    assert sorted(Counter(splits.folds).values()) == [1066] * 8 + [1067] * 2  # 10662 over 10 folds


def test_class_files_mr_as_utf8_names_the_encoding(datasets):
    spec = data_spec(train={"pos": "mr/rt-polarity.pos", "neg": "mr/rt-polarity.neg"})
    path = datasets / "mr" / "rt-polarity.pos"
    assert error_of(spec, datasets) == (
        f"{path}, line 44: cannot decode the bytes as utf-8 (byte 0xf3 at offset 47 in the line); "
        "set data.encoding, for example to latin-1"
    )


def test_tsv_sst5_multiclass(datasets):
    spec = data_spec(train="sst5/train.tsv", validation="sst5/dev.tsv", test="sst5/test.tsv", text="sentence")
    splits = load_splits(spec, datasets, seed=0)
    assert splits.task == "multiclass" and splits.class_names == ("0", "1", "2", "3", "4")
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (8544, 1101, 2210)


def test_jsonl_from_real_sst5(datasets, tmp_path):
    lines = (datasets / "sst5" / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    with (tmp_path / "dev.jsonl").open("w", encoding="utf-8") as out:
        for line in lines:
            text, label = line.split("\t")
            out.write(json.dumps({"review": text, "stars": int(label) + 1}) + "\n")
    spec = data_spec(train="dev.jsonl", text="review", label="stars")
    splits = load_splits(spec, tmp_path, seed=0)
    assert splits.class_names == ("1", "2", "3", "4", "5")
    assert len(splits.train) + len(splits.validation) == 1101


def test_glob_of_parquet_files(tmp_path):
    (tmp_path / "parts").mkdir()
    for part, rows in enumerate([[("good", "pos"), ("bad", "neg")], [("fine", "pos"), ("awful", "neg")]]):
        table = pa.table({"text": [t for t, _ in rows], "label": [label for _, label in rows]})
        pq.write_table(table, tmp_path / "parts" / f"part-{part}.parquet")
    raw = read_source(data_spec(train="parts/*.parquet"), tmp_path, seed=0)
    assert raw.train.texts == ["good", "bad", "fine", "awful"]
    assert raw.train.locations[2] == f"{tmp_path / 'parts' / 'part-1.parquet'}, row 1"


def test_multilabel_from_jsonl_lists_and_csv_separator(tmp_path):
    rows = [{"text": "a b", "label": ["x", "y"]}, {"text": "c", "label": ["y"]}, {"text": "d", "label": []}]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows * 4), encoding="utf-8")
    splits = load_splits(data_spec(train="t.jsonl", folds=2), tmp_path, seed=0)
    assert splits.task == "multilabel" and splits.class_names == ("x", "y")
    np.testing.assert_array_equal(splits.y_train[:3], [[1, 1], [0, 1], [0, 0]])
    (tmp_path / "t.csv").write_text("text,label\na,x|y\nb,y\nc,x\nd,y\n", encoding="utf-8")
    splits = load_splits(data_spec(train="t.csv", label_separator="|", folds=2), tmp_path, seed=0)
    assert splits.task == "multilabel"


def test_regression_is_inferred_from_fractions(tmp_path):
    (tmp_path / "t.csv").write_text("text,label\na,0.5\nb,1\nc,2.25\nd,3\n", encoding="utf-8")
    splits = load_splits(data_spec(train="t.csv", folds=2), tmp_path, seed=0)
    assert splits.task == "regression"
    np.testing.assert_allclose(np.sort(splits.y_train), [0.5, 1, 2.25, 3])


def test_keras_imdb_offline_fails_in_one_line():
    with pytest.raises(DataError) as raised:
        read_source(KerasData(format="keras", dataset="imdb"), Path("."), seed=0)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("data.dataset: 'imdb': Keras could not download it (")
    assert message.endswith(
        "offline, download it elsewhere into ~/.keras/datasets or point the study at local files, for example "
        "format: parquet, train: ../shared/datasets/imdb/train.parquet, test: .../test.parquet"
    )


# Bad data: one line naming the file, the line or row and the problem.


def write(folder: Path, name: str, content: str) -> str:
    (folder / name).write_text(content, encoding="utf-8")
    return name


def test_missing_file(tmp_path):
    assert error_of(data_spec(train="nope.jsonl"), tmp_path) == f"{tmp_path / 'nope.jsonl'}: no such file (data.train)"


def test_missing_parquet_column_lists_the_columns(tmp_path):
    pq.write_table(pa.table({"review": ["a"], "label": [1]}), tmp_path / "t.parquet")
    assert error_of(data_spec(train="t.parquet"), tmp_path) == (
        f"{tmp_path / 't.parquet'}: no column 'text' (data.text); the columns are 'review', 'label'"
    )


def test_missing_jsonl_field_lists_the_fields(tmp_path):
    write(tmp_path, "t.jsonl", '{"text": "a", "label": 1}\n{"txt": "b", "label": 0}\n')
    assert error_of(data_spec(train="t.jsonl"), tmp_path) == (
        f"{tmp_path / 't.jsonl'}, line 2: no field 'text'; the fields are 'txt', 'label'"
    )


def test_empty_text_in_parquet_names_the_row(tmp_path):
    pq.write_table(pa.table({"text": ["a", "  ", "c"], "label": [1, 0, 1]}), tmp_path / "t.parquet")
    assert error_of(data_spec(train="t.parquet"), tmp_path) == (
        f"{tmp_path / 't.parquet'}, row 2: empty text (set data.drop_empty: true to drop such examples)"
    )


def test_dropped_empty_texts_are_counted(tmp_path):
    write(tmp_path, "pos.txt", "good\n\ngreat\nfine\n")
    write(tmp_path, "neg.txt", "bad\nawful\n \nworse\n")
    splits = load_splits(
        data_spec(train={"pos": "pos.txt", "neg": "neg.txt"}, drop_empty=True, folds=2), tmp_path, seed=0
    )
    assert len(splits.train) == 6 and splits.dropped == (("train", 2),)


def test_missing_label_in_parquet(tmp_path):
    pq.write_table(pa.table({"text": ["a", "b"], "label": [1, None]}), tmp_path / "t.parquet")
    assert error_of(data_spec(train="t.parquet"), tmp_path) == f"{tmp_path / 't.parquet'}, row 2: missing label"


def test_unknown_label_in_the_directory_layout(tmp_path):
    for split, classes in (("train", ("neg", "pos")), ("test", ("neg", "meh"))):
        for name in classes:
            (tmp_path / split / name).mkdir(parents=True)
            for number in (1, 2):
                write(tmp_path / split / name, f"{number}.txt", f"a {name} review")
    message = error_of(data_spec(train="train", test="test", folds=2, drop_empty=False), tmp_path, with_test=True)
    assert message == (
        f"{tmp_path / 'test' / 'meh' / '1.txt'}: label 'meh' does not occur in the training data "
        "(labels there: 'neg', 'pos')"
    )


def test_single_class(tmp_path):
    write(tmp_path, "t.jsonl", '{"text": "a", "label": "pos"}\n{"text": "b", "label": "pos"}\n')
    assert error_of(data_spec(train="t.jsonl"), tmp_path) == (
        f"{tmp_path / 't.jsonl'}: only one class ('pos') in the training data; a classifier needs at least 2"
    )


def test_too_few_examples_per_class_for_the_folds(tmp_path):
    write(tmp_path, "t.csv", "text,label\n" + "".join(f"t{i},a\n" for i in range(12)) + "u,b\nv,b\nw,b\n")
    assert error_of(data_spec(train="t.csv", folds=5), tmp_path) == (
        f"{tmp_path / 't.csv'}: class 'b' has 3 examples, fewer than folds: 5; every fold needs one of each "
        "class (lower data.folds or add examples)"
    )


def test_regression_needs_numbers(tmp_path):
    write(tmp_path, "t.csv", "text,label\na,1.5\nb,high\n")
    assert error_of(data_spec(train="t.csv", task="regression"), tmp_path) == (
        f"{tmp_path / 't.csv'}, line 3: label 'high' is not a number; task 'regression' needs numeric labels"
    )


def test_undecodable_bytes_in_jsonl(tmp_path):
    (tmp_path / "t.jsonl").write_bytes(b'{"text": "caf\xe9", "label": 1}\n')
    assert error_of(data_spec(train="t.jsonl"), tmp_path) == (
        f"{tmp_path / 't.jsonl'}, line 1: cannot decode the bytes as utf-8 (byte 0xe9 at offset 13 in the line); "
        "set data.encoding, for example to latin-1"
    )


def test_empty_glob(tmp_path):
    assert error_of(data_spec(train="parts/*.parquet"), tmp_path) == (
        f"{tmp_path / 'parts' / '*.parquet'}: no file matches the pattern (data.train)"
    )
