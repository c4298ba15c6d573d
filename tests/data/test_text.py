import numpy as np
import pytest

from gapsearch.data.text import OOV_ID, PAD_ID, Vocabulary, length_percentiles, standardize, tokenize, vectorize
from gapsearch.spec.data import TextSettings

DEFAULTS = TextSettings()


def test_markup_becomes_a_space():
    assert standardize("Great film.<br /><br />Loved it", DEFAULTS) == "great film   loved it"
    assert tokenize(standardize("one<br/>two <i>three</i>", DEFAULTS)) == ["one", "two", "three"]


def test_punctuation_becomes_a_space_but_inner_apostrophes_stay():
    text = "Don't stop!Now, it 's 'quoted' \u2019tis o\u2019clock rock_n'roll 1,000 café"
    assert tokenize(standardize(text, DEFAULTS)) == [
        "don't", "stop", "now", "it", "s", "quoted", "tis", "o'clock", "rock", "n'roll", "1", "000", "café",
    ]  # fmt: skip


def test_each_setting_can_be_turned_off():
    settings = TextSettings(lowercase=False, strip_markup=False, strip_punctuation=False)
    assert standardize("Hi,<br />There!", settings) == "Hi,<br />There!"
    assert standardize("Hi,<br />There!", TextSettings(strip_punctuation=False)) == "hi, there!"
    assert standardize("Hi,<br />There!", TextSettings(lowercase=False)) == "Hi  There "


def test_tokenize_splits_on_any_whitespace():
    assert tokenize("  a\tb\nc  d\x85e ") == ["a", "b", "c", "d", "e"]


def test_vocabulary_orders_by_frequency_then_alphabetically():
    vocabulary = Vocabulary.build([["b", "c", "a"], ["c", "b", "d"], ["c"]], max_tokens=10)
    assert vocabulary.tokens == ("", "[UNK]", "c", "b", "a", "d")
    assert len(vocabulary) == 6
    assert vocabulary.ids(["c", "a", "zebra"]) == [2, 4, OOV_ID]


def test_vocabulary_counts_padding_and_oov_in_max_tokens():
    vocabulary = Vocabulary.build([["b", "c", "a"], ["c", "b", "d"], ["c"]], max_tokens=4)
    assert vocabulary.tokens == ("", "[UNK]", "c", "b")
    assert vocabulary.ids(["a", "b"]) == [OOV_ID, 3]
    with pytest.raises(ValueError, match=r"max_tokens >= 2 must hold .* but got 1"):
        Vocabulary.build([["a"]], max_tokens=1)


def test_vectorize_pads_at_the_end():
    vocabulary = Vocabulary.build([["a", "b", "c"]], max_tokens=10)
    ids = vectorize([["a", "b"], [], ["c", "x"]], vocabulary, sequence_length=4, truncation="post")
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, [[2, 3, PAD_ID, PAD_ID], [0, 0, 0, 0], [4, OOV_ID, 0, 0]])


@pytest.mark.parametrize(("truncation", "expected"), [("post", [2, 3, 4]), ("pre", [4, 5, 6])])
def test_truncation_keeps_the_start_or_the_end(truncation, expected):
    tokens = ["a", "b", "c", "d", "e"]
    vocabulary = Vocabulary.build([tokens], max_tokens=10)
    ids = vectorize([tokens], vocabulary, sequence_length=3, truncation=truncation)
    np.testing.assert_array_equal(ids, [expected])


def test_length_percentiles_give_lengths_that_cover_the_share():
    token_lists = [["w"] * n for n in range(1, 101)]
    assert length_percentiles(token_lists) == {50: 50, 90: 90, 95: 95, 99: 99, 100: 100}
    assert length_percentiles([["a"], ["a", "b", "c"]], percentiles=(50, 75)) == {50: 1, 75: 3}
