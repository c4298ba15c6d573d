from collections import Counter

import numpy as np
import pytest

from gapsearch.data.splits import stratified_split

LABELS = ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 2 + ["e"]


def held_counts(labels, held):
    return Counter(labels[i] for i in held)


def test_each_class_is_held_out_in_proportion():
    rest, held = stratified_split(LABELS, 0.2, seed=0)
    # round(0.2 * 15) = 3; round(0.2 * 2) = 0 is raised to 1; a single example stays in rest.
    assert held_counts(LABELS, held) == {"a": 10, "b": 6, "c": 3, "d": 1}


def test_halves_round_up_and_every_class_keeps_an_example():
    labels = ["a"] * 10 + ["b"] * 2
    _, held = stratified_split(labels, 0.25, seed=0)  # 2.5 -> 3 and 0.5 -> 1
    assert held_counts(labels, held) == {"a": 3, "b": 1}
    _, held = stratified_split(labels, 0.9, seed=0)  # b would lose its only training example
    assert held_counts(labels, held) == {"a": 9, "b": 1}


def test_indices_are_sorted_disjoint_and_complete():
    rest, held = stratified_split(LABELS, 0.3, seed=1)
    assert rest.dtype == np.int64 and held.dtype == np.int64
    assert np.all(np.diff(rest) > 0) and np.all(np.diff(held) > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([rest, held])), np.arange(len(LABELS)))


def test_deterministic_from_the_seed():
    first = stratified_split(LABELS, 0.2, seed=5)
    again = stratified_split(LABELS, 0.2, seed=5)
    other = stratified_split(LABELS, 0.2, seed=6)
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


def test_zero_fraction_holds_nothing_out():
    rest, held = stratified_split(LABELS, 0.0, seed=0)
    assert len(held) == 0 and len(rest) == len(LABELS)


def test_fraction_must_be_below_one():
    with pytest.raises(ValueError, match=r"0 <= fraction < 1 must hold, but got fraction=1.0"):
        stratified_split(LABELS, 1.0, seed=0)
