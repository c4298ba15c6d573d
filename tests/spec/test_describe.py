"""What `gapsearch validate` prints of a study: the fixed hyperparameters in effect and the size of the space."""

from __future__ import annotations

from gapsearch.spec import load_study
from gapsearch.spec.describe import describe_study

STUDY = """\
name: tiny
metric: val_accuracy
direction: maximize
n_trials: 2
data: {format: synthetic, n_examples: 200}
"""


def described(tmp_path, text: str) -> dict[str, str]:
    """The printed lines by their first word (``fixed``, ``search``...), each without it."""
    path = tmp_path / "study.yaml"
    path.write_text(STUDY + text)
    lines = describe_study(load_study(path), "sqlite:///gapsearch.db").splitlines()
    return dict(line.split(maxsplit=1) for line in lines if not line.startswith(" "))


def test_an_empty_search_space_says_the_trials_train_one_configuration_again(tmp_path):
    shown = described(tmp_path, "search_space: {}\n")
    assert shown["search"] == (
        "space: nothing searched: 1 configuration, which each of the 2 trials trains again with its own seed"
    )
    assert described(tmp_path, "search_space: {pooling: [average, max]}\n")["search"] == "space: 2 configurations"


def test_the_fixed_line_leaves_out_unset_options_and_the_kernel_size_kernel_sizes_replaces(tmp_path):
    fixed = described(tmp_path, "search_space: {}\n")["fixed"]
    assert "kernel_size=3" in fixed and "kernel_sizes" not in fixed and "=None" not in fixed
    fixed = described(tmp_path, "model: {kernel_sizes: [3, 4, 5]}\nsearch_space: {}\n")["fixed"]
    assert "kernel_sizes=(3, 4, 5)" in fixed and "kernel_size=" not in fixed
