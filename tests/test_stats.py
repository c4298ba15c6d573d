"""Means with t intervals and Welch's interval of a difference, against textbook values."""

from __future__ import annotations

import math

import pytest

from gapsearch.stats import difference, summarize


def test_a_single_value_has_no_interval():
    summary = summarize([0.5])
    assert (summary.n, summary.mean, summary.std, summary.low, summary.high) == (1, 0.5, None, None, None)


def test_the_t_interval_uses_the_t_quantile_of_n_minus_1_degrees_of_freedom():
    # t(0.975, 1) = 12.7062 and t(0.975, 4) = 2.7764, from any t table.
    two = summarize([0.0, 1.0])
    assert two.half_width == pytest.approx(12.7062047 * math.sqrt(0.5) / math.sqrt(2), rel=1e-6)
    five = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (five.low, five.high) == pytest.approx((3 - 2.7764451 * math.sqrt(2.5 / 5), 3 + 2.7764451 * math.sqrt(0.5)))


def test_welchs_interval_of_a_difference():
    # Equal variances and sizes: df = 2(n-1) = 4, standard error sqrt(2 * var / n).
    diff = difference(summarize([1.0, 2.0, 3.0]), summarize([0.0, 1.0, 2.0]))
    half = 2.7764451 * math.sqrt(2 * 1.0 / 3)
    assert (diff.estimate, diff.low, diff.high) == pytest.approx((1.0, 1.0 - half, 1.0 + half))
    assert not diff.excludes_zero
    assert difference(summarize([1.0]), summarize([0.0, 1.0])) is None
