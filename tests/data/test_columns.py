"""Finding the text and label columns of a data file (gapsearch init), on real MR sentences in every format
the data section reads from one file; where the columns do not decide, the exact one-line message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gapsearch.data.columns import MAX_CLASSES, choose_columns, read_columns
from gapsearch.errors import DataError


@pytest.fixture(scope="module")
def sentences(datasets) -> list[tuple[str, str]]:
    """60 MR sentences (latin-1, 10 of them with accents or other non-ASCII letters) and their polarity."""
    chosen = []
    for name in ("pos", "neg"):
        lines = (datasets / "mr" / f"rt-polarity.{name}").read_bytes().decode("latin-1").split("\n")[:3000]
        lines = [line.strip() for line in lines if line.strip()]
        chosen.append(
            [line for line in lines if not line.isascii()][:5] + [line for line in lines if line.isascii()][:25]
        )
    return [row for pair in zip(*chosen, strict=True) for row in ((pair[0], "pos"), (pair[1], "neg"))]


def write_rows(path: Path, header: list[str], rows: list[list[object]], *, encoding: str = "utf-8") -> Path:
    delimiter = "," if path.suffix == ".csv" else "\t"
    lines = [delimiter.join(header), *(delimiter.join(str(cell) for cell in row) for row in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_latin_1_tsv_gives_its_longest_column_as_text_and_its_two_valued_column_as_label(tmp_path, sentences):
    assert any(ord(character) > 127 for text, _ in sentences for character in text)
    rows = [[i, text, label] for i, (text, label) in enumerate(sentences)]
    path = write_rows(tmp_path / "reviews.tsv", ["id", "review", "polarity"], rows, encoding="latin-1")
    data = read_columns(path)
    assert (data.format, data.encoding, data.rows) == ("tsv", "latin-1", 60)
    text, label = choose_columns(data)
    assert (text.name, label.name) == ("review", "polarity")
    assert label.examples == ("pos", "neg") and label.distinct == 2
    assert text.mean_length == pytest.approx(sum(len(t) for t, _ in sentences) / 60)
    assert not data.column("id").label_like(data.rows) and not data.column("id").strings


def test_the_same_columns_in_csv_json_lines_and_parquet(tmp_path, sentences):
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [
        {"text": text, "stars": 5 if label == "pos" else 1, "id": i} for i, (text, label) in enumerate(sentences)
    ]
    csv_path = tmp_path / "reviews.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["id", "text", "stars"])
        writer.writeheader()
        writer.writerows(records)  # the texts hold commas and quotes: csv quotes them
    jsonl_path = tmp_path / "reviews.jsonl"
    jsonl_path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    parquet_path = tmp_path / "reviews.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet_path)
    for path, file_format, encoding in (
        (csv_path, "csv", "utf-8"),
        (jsonl_path, "jsonl", "utf-8"),
        (parquet_path, "parquet", None),
    ):
        data = read_columns(path)
        assert (data.format, data.encoding, data.rows) == (file_format, encoding, 60), path
        text, label = choose_columns(data)
        assert (text.name, label.name, label.numbers, label.fractions) == ("text", "stars", True, False), path


def test_named_columns_win_and_a_missing_one_lists_the_columns(tmp_path, sentences):
    rows = [[text, label, label.upper()] for text, label in sentences]
    path = write_rows(tmp_path / "r.tsv", ["sentence", "a", "b"], rows)
    data = read_columns(path)
    with pytest.raises(DataError) as caught:
        choose_columns(data)
    assert str(caught.value) == (
        f"{path}: cannot tell the label column among 'a' (2 distinct, 3 characters on average), "
        "'b' (2 distinct, 3 characters on average); name it with --label"
    )
    assert [c.name for c in choose_columns(data, label="b")] == ["sentence", "b"]
    with pytest.raises(DataError) as caught:
        choose_columns(data, label="polarity")
    assert str(caught.value) == (
        f"{path}: no column 'polarity' (--label); the columns are 'sentence' (60 distinct, "
        f"{data.column('sentence').mean_length:.0f} characters on average), 'a' (2 distinct, 3 characters on "
        "average), 'b' (2 distinct, 3 characters on average)"
    )
    relabelled = write_rows(tmp_path / "s.tsv", ["sentence", "label", "b"], rows)
    assert choose_columns(read_columns(relabelled))[1].name == "label"  # a column named like a label settles it


def test_two_text_columns_as_long_are_not_guessed_between(tmp_path, sentences):
    rows = [[text, sentences[-1 - i][0], label] for i, (text, label) in enumerate(sentences)]
    path = write_rows(tmp_path / "pairs.tsv", ["premise", "hypothesis", "label"], rows)
    data = read_columns(path)
    with pytest.raises(
        DataError, match=r"cannot tell the text column: 'premise' \(60 distinct, .*name it with --text$"
    ):
        choose_columns(data)
    assert [c.name for c in choose_columns(data, text="hypothesis")] == ["hypothesis", "label"]


def test_no_label_column_and_no_text_column_say_which_option_to_give(tmp_path, sentences):
    unique = write_rows(tmp_path / "u.tsv", ["text", "id"], [[t, i] for i, (t, _) in enumerate(sentences)])
    with pytest.raises(DataError) as caught:
        choose_columns(read_columns(unique))
    assert str(caught.value).startswith(f"{unique}: no column besides 'text' has few distinct values (2 to 30) ")
    assert str(caught.value).endswith("; name the label column with --label")
    numbers = write_rows(tmp_path / "n.csv", ["score", "label"], [[i / 7, i % 2] for i in range(60)])
    with pytest.raises(DataError, match=r"no column holds texts .*; name the text column with --text$"):
        choose_columns(read_columns(numbers))
    assert MAX_CLASSES >= 20  # SST-5's five classes, a topic set's twenty


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "data.xlsx",
            b"x",
            "{path}: the extension names the format; expected .csv, .tsv, .tab, .txt, .jsonl, "
            ".ndjson, .parquet, .pq, but got '.xlsx'",
        ),
        ("missing.tsv", None, "{path}: no such file"),
        (
            "one.csv",
            b"text;label\na;b\n",
            "{path}: found one column ('text;label'); a text and a label column are "
            "needed (is the file CSV, as its extension says?)",
        ),
        ("empty.tsv", b"text\tlabel\n", "{path}: no rows below the column names 'text', 'label'"),
        ("bad.jsonl", b'{"text": "a"}\n[1]\n', "{path}, line 2: expected a JSON object with fields, but got list"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_columns(path)
    assert str(caught.value) == message.format(path=path)
