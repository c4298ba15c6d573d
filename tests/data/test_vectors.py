"""Pre-trained vectors: the three text formats, gzipped too, errors by line number, the cache entries, the real file."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

import gapsearch.data.cache
import gapsearch.spec.vectors_file
from gapsearch.data.cache import StudyData
from gapsearch.data.dataset import load_splits
from gapsearch.data.text import Vocabulary
from gapsearch.data.vectors import VectorWords, look_up, read_vectors
from gapsearch.errors import DataError
from gapsearch.spec.vectors_file import vectors_dimension
from tests.conftest import ROOT, require
from tests.data.test_cache import make_data

GLOVE = (ROOT / ".." / "shared" / "vectors" / "glove.6B.50d.txt.gz").resolve()

VECTORS = {"good": [0.5, -1.0, 2.0], "Film": [1.0, 1.0, 1.0], "bad": [-0.5, 0.25, 3.0], "unused": [9.0, 9.0, 9.0]}


def write(path: Path, header: bool, gzipped: bool) -> Path:
    lines = [f"{len(VECTORS)} 3"] if header else []
    lines += [word + " " + " ".join(str(x) for x in vector) for word, vector in VECTORS.items()]
    text = "\n".join(lines) + "\n"
    if gzipped:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "header", "gzipped"),
    [("w2v.txt", True, False), ("glove.6B.3d.txt", False, False), ("cc.vec", True, False), ("g.txt.gz", False, True)],
)
def test_each_format_reads_the_wanted_words(tmp_path, name, header, gzipped):
    path = write(tmp_path / name, header, gzipped)

    assert vectors_dimension(path) == 3
    words, table = read_vectors(path, {"good", "film", "bad", "absent"})

    assert words == ["good", "Film", "bad"]  # "film" matches "Film" lowercased; "unused" is not read
    np.testing.assert_array_equal(table, np.asarray([VECTORS[w] for w in words], dtype="float32"))
    looked_up = look_up(["<pad>", "<oov>", "good", "film", "plot"], words, table)
    assert looked_up.found.tolist() == [False, False, True, True, False]
    assert looked_up.describe() == "vectors for 2 of 3 words (66.7%)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("good 1 2 3\nbad 1 two 3\n", "line 2: 'two' in the vector of 'bad' is not a number"),
        ("3 3\ngood 1 2 3\nbad 1 2\n", "line 3: expected a word and 3 numbers separated by spaces, but got 2 field(s)"),
        ("", "the vectors file is empty"),
    ],
)
def test_a_malformed_line_is_named_by_number(tmp_path, text, message):
    path = tmp_path / "v.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=re.escape(message)):
        read_vectors(path, {"good", "bad"})


def test_the_looked_up_matrix_is_cached_by_the_file_contents(tmp_path):
    spec = make_data(tmp_path)
    path = write(tmp_path / "v.txt", header=False, gzipped=False)
    data = StudyData(spec, tmp_path, 0)
    vocabulary = data.run(data.info.run_names[0], 100, 5).vocabulary

    first = data.vectors(vocabulary, path)
    built = list(data.built)
    again = StudyData(spec, tmp_path, 0).vectors(vocabulary, path)

    assert any("vectors" in name for name in built)
    np.testing.assert_array_equal(again.matrix, first.matrix)
    assert first.covered == 3  # good, film (from Film), bad
    # 27 distinct words (7 and the numbers 0 to 19); good 5 times, film 10, bad 5 of the 60 tokens.
    assert data.vectors_coverage(path) == (
        "vectors for 3 of 27 distinct words of the training texts (11.1%), 33.3% of their tokens"
    )
    # Other contents, another entry: the cache never serves stale vectors.
    path.write_text("good 7 7 7\n")
    changed = StudyData(spec, tmp_path, 0).vectors(vocabulary, path)
    assert changed.covered == 1 and 7.0 in changed.matrix


def test_a_second_study_and_another_vocabulary_do_not_read_the_vectors_file_again(tmp_path, monkeypatch):
    spec = make_data(tmp_path)
    path = write(tmp_path / "glove.txt.gz", header=False, gzipped=True)
    data = StudyData(spec, tmp_path, 0)
    vocabulary = data.run(data.info.run_names[0], 100, 5).vocabulary
    first = data.vectors(vocabulary, path)
    coverage = data.vectors_coverage(path)

    def read_again(*args: object) -> None:
        raise AssertionError(f"the vectors file was read again: {args}")

    # Neither parsed nor hashed: a second study (a new StudyData, as in a new process) finds everything cached.
    monkeypatch.setattr(gapsearch.spec.vectors_file, "open_vectors", read_again)
    monkeypatch.setattr(gapsearch.data.cache, "file_digest", read_again)
    second = StudyData(spec, tmp_path, 0)
    np.testing.assert_array_equal(second.vectors(vocabulary, path).matrix, first.matrix)
    assert second.vectors_coverage(path) == coverage
    # A trial with another max_tokens has another vocabulary: looked up from the words kept at the first read.
    smaller = second.run(second.info.run_names[0], 5, 5).vocabulary
    found = [token in {"good", "film", "bad"} for token in smaller.tokens]
    assert second.vectors(smaller, path).found.tolist() == found
    # Built: the new run's ids and its matrix; neither the words' entry nor the file's hash.
    assert [name.split("-")[0] for name in second.built if not name.startswith(second.key)] == ["vectors"]
    assert not [name for name in second.built if "-words-" in name]


def test_the_real_glove_file_reads_with_its_tokens():
    require(GLOVE.is_file(), f"the GloVe 6B 50d file is missing at {GLOVE}")

    assert vectors_dimension(GLOVE) == 50
    words, table = read_vectors(GLOVE, {"the", "film", "n't", "'s", "don't", "gapsearchx"})

    # GloVe 6B is lowercased and tokenized as the Penn Treebank: "don't" is "do" and "n't".
    assert sorted(words) == ["'s", "film", "n't", "the"]
    assert table.shape == (4, 50) and table.dtype == np.float32
    np.testing.assert_allclose(table[words.index("the")][:3], [0.418, 0.24968, -0.41242])


def _scored_data(folder: Path, **settings):  # noqa: ANN202
    """Training rows that never use "Film"'s or "unused"'s words; validation and test rows that do."""
    rows = "\n".join(f"good bad {i},{'pos' if i % 2 else 'neg'}" for i in range(12))
    (folder / "train.csv").write_text(f"text,label\n{rows}\n", encoding="utf-8")
    (folder / "dev.csv").write_text("text,label\nfilm plot good,pos\nfilm bad,neg\n", encoding="utf-8")
    (folder / "test.csv").write_text("text,label\nunused plot,pos\nfilm,neg\n", encoding="utf-8")
    from tests.data.test_cache import SPEC

    return SPEC.validate_python({"train": "train.csv", "test": "test.csv", **settings})


def test_the_words_of_the_scored_rows_that_have_a_vector_join_the_vocabulary_after_the_training_words(tmp_path):
    spec = _scored_data(tmp_path, validation="dev.csv")
    path = write(tmp_path / "v.txt", header=False, gzipped=False)
    data = StudyData(spec, tmp_path, 0)
    plain = data.run("validation", 100, 4)
    with_vectors = data.run("validation", 100, 4, path)

    # The training rows' ids stay; "film" (a vector, as "Film" lowercased) follows them; "plot" (none) does not.
    assert with_vectors.vocabulary.tokens == (*plain.vocabulary.tokens, "film")
    np.testing.assert_array_equal(with_vectors.x_train, plain.x_train)
    film = with_vectors.vocabulary.tokens.index("film")
    assert with_vectors.x_validation[:, 0].tolist() == [film, film]
    assert plain.x_validation[:, 0].tolist() == [1, 1]  # out of the vocabulary without vectors
    assert with_vectors.x_validation[0, 1] == 1  # "plot": out of the vocabulary either way
    assert with_vectors.oov_rate == plain.oov_rate  # a share of the training tokens
    # The embedding starts from film's vector; the entry is the file's: a new StudyData reads it from the cache.
    looked_up = data.vectors(with_vectors.vocabulary, path)
    np.testing.assert_array_equal(looked_up.matrix[film], VECTORS["Film"])
    again = StudyData(spec, tmp_path, 0)
    assert again.run("validation", 100, 4, path).vocabulary == with_vectors.vocabulary
    assert not [name for name in again.built if "validation" in name]


def test_a_fold_takes_the_vectors_words_of_its_inner_split_and_of_the_fold_it_is_scored_on(tmp_path):
    spec = _scored_data(tmp_path, folds=2, inner_validation_split=0.25)
    rows = [f"good bad {i},{'pos' if i % 2 else 'neg'}" for i in range(12)] + ["film good,pos", "film bad,neg"]
    (tmp_path / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    splits = StudyData(spec, tmp_path, 0).splits
    vector_words = VectorWords("v", frozenset(VECTORS))
    film_rows = {i for i, tokens in enumerate(splits.train_tokens) if tokens[0] == "film"}
    held_film, extended = 0, 0
    for index, fold in enumerate(splits.run_names()):
        run = splits.vectorize_run(fold, 100, 3, vector_words)
        plain = splits.vectorize_run(fold, 100, 3)
        # "film" has an id in every run: trained on, or added for the rows the run scores (inner split, fold).
        assert "film" in run.vocabulary.tokens
        film = run.vocabulary.tokens.index("film")
        held = [i for i in np.flatnonzero(np.asarray(splits.folds) == index)]
        assert run.x_held_out is not None
        for row, train_row in zip(run.x_held_out, held, strict=True):
            assert (row[0] == film) == (train_row in film_rows)
            held_film += train_row in film_rows
        if "film" not in plain.vocabulary.tokens:  # the fold's training rows never had it: it would be OOV
            assert run.vocabulary.tokens[: len(plain.vocabulary)] == plain.vocabulary.tokens
            extended += 1
    assert extended >= 1  # the stratified folds put both film rows in one fold (or film only in an inner split)
    assert held_film == 2  # each film row is scored in its fold with film's id


def test_evaluate_takes_the_test_splits_vectors_words_the_search_never_saw(tmp_path):
    spec = _scored_data(tmp_path, validation="dev.csv")
    splits = load_splits(spec, tmp_path, 0, with_test=True)
    vector_words = VectorWords("v", frozenset(VECTORS))
    final = splits.vectorize_final(100, 3, include_validation=False, vector_words=vector_words)
    plain = splits.vectorize_final(100, 3, include_validation=False)
    assert final.vocabulary.tokens == (*plain.vocabulary.tokens, "film", "unused")  # film twice, unused once
    assert final.x_validation[:, 0].tolist() == [len(final.vocabulary) - 1, len(final.vocabulary) - 2]


def test_a_vocabulary_extended_keeps_its_ids_and_adds_the_accepted_tokens_most_frequent_first():
    vocabulary = Vocabulary.build([["a", "b", "a"]], 10)
    extended = vocabulary.extended([["c", "d", "a", ""], ["d", "[UNK]", "e"]], lambda token: token != "e")
    assert extended.tokens == ("", "[UNK]", "a", "b", "d", "c")
    assert vocabulary.extended([["e"]], lambda token: False) is vocabulary
