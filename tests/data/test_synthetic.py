from collections import Counter

import numpy as np
import pytest

from gapsearch.data.synthetic import CUES_PER_CLASS, N_DISTRACTORS, make_synthetic, synthetic_lexicon
from gapsearch.data.text import standardize, tokenize
from gapsearch.spec.data import TextSettings


def cue_counts(text: str, cues: tuple[tuple[str, ...], ...], n_classes: int) -> list[int]:
    words = Counter(text.split())
    return [sum(words[cue] for cue in cues[c]) for c in range(n_classes)]


def test_same_seed_gives_the_same_data():
    assert make_synthetic(300, 3, 7, 8, 120) == make_synthetic(300, 3, 7, 8, 120)


def test_different_seeds_give_different_data():
    texts_a, labels_a = make_synthetic(300, 3, 7, 8, 120)
    texts_b, labels_b = make_synthetic(300, 3, 8, 8, 120)
    assert texts_a != texts_b
    assert labels_a != labels_b


def test_lengths_cover_the_range_and_most_texts_are_short():
    texts, _ = make_synthetic(2000, 2, 0, 8, 120)
    lengths = np.array([len(text.split()) for text in texts])
    assert lengths.min() == 8
    assert lengths.max() <= 120
    assert lengths.max() >= 110
    assert np.median(lengths) < (8 + 120) / 2 - 20  # skewed towards short texts


def test_length_bounds_may_be_equal():
    texts, _ = make_synthetic(50, 2, 0, 5, 5)
    assert {len(text.split()) for text in texts} == {5}


def test_classes_are_balanced_and_named():
    _, labels = make_synthetic(1001, 4, 3, 8, 120)
    counts = Counter(labels)
    assert sorted(counts) == ["class_0", "class_1", "class_2", "class_3"]
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize("n_classes", [2, 5])
def test_the_label_is_the_class_whose_cues_occur_most(n_classes):
    texts, labels = make_synthetic(1000, n_classes, 11, 8, 120)
    _, cues = synthetic_lexicon(11)
    with_rival = 0
    for text, label in zip(texts, labels, strict=True):
        counts = cue_counts(text, cues, n_classes)
        own = int(label.removeprefix("class_"))
        assert counts[own] == max(counts)
        assert counts.count(max(counts)) == 1, (text, label, counts)
        with_rival += sum(1 for c in counts if c > 0) > 1
    # Most texts also hold fewer cues of another class: presence alone does not decide the class.
    assert with_rival / len(texts) > 0.5


def test_lexicon_has_distinct_words_and_cues():
    distractors, cues = synthetic_lexicon(0)
    assert len(distractors) == N_DISTRACTORS
    assert all(len(class_cues) == CUES_PER_CLASS for class_cues in cues)
    all_words = list(distractors) + [cue for class_cues in cues for cue in class_cues]
    assert len(set(all_words)) == len(all_words)


def test_texts_are_unchanged_by_standardizing():
    texts, _ = make_synthetic(100, 2, 0, 8, 40)
    for text in texts:
        assert standardize(text, TextSettings()) == text
        assert tokenize(text) == text.split(" ")


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match=r"2 <= n_classes <= 50 must hold, but got n_classes=1"):
        make_synthetic(100, 1, 0, 8, 120)
    with pytest.raises(ValueError, match=r"1 <= min_length <= max_length must hold, but got \(min_length=9"):
        make_synthetic(100, 2, 0, 9, 8)
