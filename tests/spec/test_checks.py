"""Search-space arithmetic: sampling order and size, conditionals included."""

from __future__ import annotations

import math
import textwrap

import pytest

from gapsearch.spec import load_study
from gapsearch.spec.checks import sampling_order, space_size


def study(tmp_path, space: str, extra: str = ""):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmetric: val_accuracy\ndirection: maximize\nn_trials: 1\ndata: {format: synthetic}\n"
        + extra
        + "search_space:\n"
        + textwrap.indent(textwrap.dedent(space), "  ")
    )
    return load_study(path)


def test_size_counts_conditional_branches(tmp_path):
    spec = study(
        tmp_path,
        """\
        attention_units: {low: 8, high: 32, step: 8, when: {pooling: attention}}
        pooling: [average, max, attention]
        embedding_dim: [16, 32]
        """,
    )
    # average and max: 2 each; attention: 2 x 4 attention_units
    assert space_size(spec) == 2 + 2 + 2 * 4
    assert sampling_order(spec.search_space) == ["pooling", "attention_units", "embedding_dim"]


def test_size_is_infinite_with_a_continuous_float_range(tmp_path):
    spec = study(tmp_path, "dropout: {low: 0.0, high: 0.5}\nfilters: {low: 8, high: 16}\n")
    assert space_size(spec) == math.inf


def test_int_range_size_includes_both_ends(tmp_path):
    spec = study(tmp_path, "filters: {low: 8, high: 16}\ndropout: {low: 0.0, high: 0.5, step: 0.1}\n")
    assert space_size(spec) == 9 * 6


def test_condition_on_a_fixed_value_that_never_holds(tmp_path):
    with pytest.raises(Exception) as caught:
        study(
            tmp_path,
            "attention_units: {low: 8, high: 32, when: {pooling: attention}}\n",
            extra="model: {pooling: max}\n",
        )
    assert str(caught.value).endswith(
        "search_space.attention_units.when.pooling: "
        "pooling is fixed at 'max', so attention_units would never be sampled"
    )


def test_conditions_may_not_form_a_cycle(tmp_path):
    with pytest.raises(Exception) as caught:
        study(
            tmp_path,
            "pooling: {choices: [max, attention], when: {encoder: conv1d}}\n"
            "encoder: {choices: [conv1d, none], when: {pooling: max}}\n",
        )
    assert "search_space: the conditions form a cycle through 'pooling'" in str(caught.value)
