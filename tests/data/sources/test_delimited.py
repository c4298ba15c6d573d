from pathlib import Path

import pytest

from gapsearch.data.sources.delimited import read_delimited, read_delimited_file
from gapsearch.errors import DataError
from gapsearch.spec.data import DelimitedData
from tests.conftest import require

DATASETS = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"


@pytest.fixture
def datasets() -> Path:
    """The shared real datasets: required in CI, skipped where they are not installed."""
    require(DATASETS.is_dir(), f"{DATASETS} is missing; CI must provide the shared datasets")
    return DATASETS


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def spec_for(path: Path, **settings) -> DelimitedData:
    return DelimitedData(train=str(path), **settings)


def read_error(path: Path, **settings) -> str:
    with pytest.raises(DataError) as raised:
        read_delimited(path, spec_for(path, **settings))
    return str(raised.value)


# Reading.


def test_csv_with_header_and_quoted_fields(tmp_path):
    path = write(tmp_path, "train.csv", 'label,text\npos,"good, really good"\nneg," bad ""film"" "\n')
    assert read_delimited(path, spec_for(path)) == (["good, really good", ' bad "film" '], ["pos", "neg"])


def test_tsv_takes_quotes_literally(tmp_path):
    path = write(tmp_path, "train.tsv", 'sentence\tlabel\nthe " conan " film \\/ 2\t1\n"quoted"\t0\n')
    texts, labels = read_delimited(path, spec_for(path, text="sentence"))
    assert texts == ['the " conan " film \\/ 2', '"quoted"']
    assert labels == ["1", "0"]


def test_quoting_and_delimiter_can_be_set(tmp_path):
    path = write(tmp_path, "train.txt", 'text;label\n"a;b";x\n"c";y\n')
    assert read_delimited(path, spec_for(path, delimiter=";", quoting="minimal")) == (["a;b", "c"], ["x", "y"])


def test_headerless_file_uses_column_numbers(tmp_path):
    path = write(tmp_path, "train.csv", "1,first text\n 0 ,second text\n")
    spec = spec_for(path, header=False, text=1, label=0)
    assert read_delimited(path, spec) == (["first text", "second text"], ["1", "0"])


def test_blank_lines_are_skipped_and_lines_are_counted(tmp_path):
    path = write(tmp_path, "train.csv", 'text,label\r\n\r\none,a\r\n"two\nlines",b\r\nthree,a\r\n\r\n')
    rows = read_delimited_file(path, spec_for(path))
    assert rows.texts == ["one", "two\nlines", "three"]
    assert rows.locations == [f"{path}, line 3", f"{path}, line 4", f"{path}, line 6"]


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = write(tmp_path, "train.csv", b"\xef\xbb\xbftext,label\nhello,a\n")
    assert read_delimited(path, spec_for(path)) == (["hello"], ["a"])


def test_other_encodings(tmp_path):
    path = write(tmp_path, "train.csv", "text,label\ncaf\xe9 \x85 ok,a\n".encode("latin-1"))
    assert read_delimited(path, spec_for(path, encoding="latin-1")) == (["caf\xe9 \x85 ok"], ["a"])


# Errors, word for word.


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    assert read_error(path) == f"{path}: no such file"


def test_folder_instead_of_file(tmp_path):
    assert read_error(tmp_path) == f"{tmp_path}: is a folder, not a file"


def test_unknown_column(tmp_path):
    path = write(tmp_path, "train.tsv", "sentence\tlabel\nhello\t1\n")
    assert read_error(path, text="txt") == f"{path}: no column 'txt' (data.text); the columns are 'sentence', 'label'"


def test_too_few_fields(tmp_path):
    path = write(tmp_path, "train.csv", "text,label\nfine,1\nno label here\n")
    assert read_error(path) == f"{path}, line 3: expected at least 2 fields, found 1"


def test_too_few_fields_for_a_column_number(tmp_path):
    path = write(tmp_path, "train.csv", "a,b\n")
    assert read_error(path, header=False, text=0, label=4) == f"{path}, line 1: expected at least 5 fields, found 2"


def test_empty_text(tmp_path):
    path = write(tmp_path, "train.csv", "text,label\nfine,1\n  ,0\n")
    assert read_error(path) == f"{path}, line 3: empty text (set data.drop_empty: true to drop such examples)"


def test_missing_label(tmp_path):
    path = write(tmp_path, "train.csv", "text,label\n\nfine, \n")
    assert read_error(path) == f"{path}, line 3: missing label"


def test_no_examples(tmp_path):
    path = write(tmp_path, "train.csv", "text,label\n\n")
    assert read_error(path) == f"{path}: no examples"
    empty = write(tmp_path, "empty.csv", "")
    assert read_error(empty) == f"{empty}: no examples"


def test_undecodable_bytes(tmp_path):
    path = write(tmp_path, "train.csv", b"text,label\ngood,1\nna\xefve \x85,0\n")
    assert read_error(path) == (
        f"{path}, line 3: cannot decode the bytes as utf-8 (byte 0xef at offset 2 in the line); "
        "set data.encoding, for example to latin-1"
    )


def test_unknown_encoding(tmp_path):
    path = write(tmp_path, "train.csv", "text,label\ngood,1\n")
    assert read_error(path, encoding="klingon") == (
        f"{path}: unknown encoding 'klingon'; set data.encoding, for example to utf-8 or latin-1"
    )


# The real datasets.


def test_sst2_dev(datasets):
    path = datasets / "sst2" / "dev.tsv"
    texts, labels = read_delimited(path, spec_for(path, text="sentence"))
    assert len(texts) == 872
    assert set(labels) == {"0", "1"}
    assert texts[0] == "it 's a charming and often affecting journey . "


def test_sst5_train(datasets):
    path = datasets / "sst5" / "train.tsv"
    texts, labels = read_delimited(path, spec_for(path, text="sentence"))
    assert len(texts) == 8544
    assert sorted(set(labels)) == ["0", "1", "2", "3", "4"]


def test_mr_as_utf8_names_the_encoding_to_set(datasets):
    path = datasets / "mr" / "rt-polarity.pos"
    assert read_error(path, format="tsv", header=False, text=0, label=0) == (
        f"{path}, line 44: cannot decode the bytes as utf-8 (byte 0xf3 at offset 47 in the line); "
        "set data.encoding, for example to latin-1"
    )


def test_mr_as_latin1_keeps_byte_0x85_inside_lines(datasets):
    # MR has one sentence per line and no label column: label=0 reuses the text column only so that
    # the file can be read at all. What is checked is the row count: 0x85 (U+0085) must not end a row.
    path = datasets / "mr" / "rt-polarity.pos"
    texts, _ = read_delimited(path, spec_for(path, format="tsv", header=False, text=0, label=0, encoding="latin-1"))
    assert len(texts) == 5331
    assert sum("\x85" in text for text in texts) > 0
