"""The study file: bad files are answered with exact one-line messages; good ones load typed and frozen."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pydantic
import pytest

from gapsearch.errors import StudyFileError
from gapsearch.spec import Choice, Range, SyntheticData, load_study

GOOD = """\
name: tiny
metric: val_accuracy
direction: maximize
n_trials: 4
data: {format: synthetic, n_examples: 200}
model: {epochs: 1, learning_rate: 1e-4}
search_space:
  embedding_dim: [8, 16]
  pooling: [average, max, attention]
  filters: {low: 8, high: 32, step: 8}
  dropout: {low: 0.0, high: 0.5}
  attention_units: {low: 4, high: 16, log: true, when: {pooling: attention}}
"""


def write(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def errors_of(path: Path) -> tuple[str, ...]:
    with pytest.raises(StudyFileError) as caught:
        load_study(path)
    return caught.value.errors


def replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_good_file_loads_typed_and_frozen(tmp_path):
    spec = load_study(write(tmp_path, GOOD))
    assert spec.name == "tiny"
    assert isinstance(spec.data, SyntheticData)
    assert spec.model.learning_rate == pytest.approx(1e-4)  # YAML 1.1 would read "1e-4" as a string
    assert spec.search_space["pooling"] == Choice(choices=("average", "max", "attention"))
    assert spec.search_space["filters"] == Range(low=8, high=32, step=8)
    assert spec.search_space["attention_units"].when == {"pooling": ("attention",)}
    assert spec.base_dir == tmp_path.resolve()
    assert spec.fixed["epochs"] == 1 and "pooling" not in spec.fixed
    with pytest.raises(pydantic.ValidationError):
        spec.n_trials = 5  # frozen


def test_misspelled_key_suggests_the_right_one(tmp_path):
    path = write(tmp_path, replace(GOOD, "n_trials: 4", "n_trails: 4"))
    assert errors_of(path) == (f"{path}: n_trails: unknown key; did you mean 'n_trials'?",)


def test_misspelled_hyperparameter_in_search_space(tmp_path):
    path = write(tmp_path, replace(GOOD, "embedding_dim: [8, 16]", "embeding_dim: [8, 16]"))
    assert errors_of(path) == (
        f"{path}: search_space.embeding_dim: unknown hyperparameter; did you mean 'embedding_dim'?",
    )


def test_misspelled_key_in_model_and_data(tmp_path):
    text = replace(GOOD, "model: {epochs: 1,", "model: {epoch: 1,")
    text = replace(text, "n_examples: 200}", "n_exemples: 200}")
    path = write(tmp_path, text)
    assert errors_of(path) == (
        f"{path}: data.n_exemples: unknown key; did you mean 'n_examples'?",
        f"{path}: model.epoch: unknown key; did you mean 'epochs'?",
    )


def test_range_with_low_above_high(tmp_path):
    path = write(tmp_path, replace(GOOD, "{low: 8, high: 32, step: 8}", "{low: 64, high: 32}"))
    assert errors_of(path) == (f"{path}: search_space.filters: low <= high must hold, but got (low=64, high=32)",)


def test_steps_per_execution_above_one_is_refused_under_torch(tmp_path, monkeypatch):
    text = replace(GOOD, "model: {epochs: 1, ", "model: {epochs: 1, steps_per_execution: 8, ")
    path = write(tmp_path, text)
    assert load_study(path).model.steps_per_execution == 8  # the TensorFlow backend of the tests takes it
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.delitem(__import__("sys").modules, "keras", raising=False)  # read the setting, not the import
    assert errors_of(path) == (
        f"{path}: model.steps_per_execution: 8 is not allowed; expected 1 or 'auto' "
        "(the PyTorch backend runs one step per call)",
    )
    searched = write(tmp_path, GOOD + "  steps_per_execution: [1, 8]\n", "searched.yaml")
    assert errors_of(searched) == (
        f"{searched}: search_space.steps_per_execution: cannot be searched under PyTorch; expected 1 or 'auto' "
        "(the PyTorch backend runs one step per call)",
    )


def test_unknown_pooling_name(tmp_path):
    path = write(tmp_path, replace(GOOD, "[average, max, attention]", "[average, mean, attention]"))
    assert errors_of(path) == (
        f"{path}: search_space.pooling[1]: 'mean' is not allowed; "
        "expected 'average', 'max', 'attention', 'average_max', 'gem', 'mixed' or 'flatten'",
    )


def test_unknown_pooling_in_model_section(tmp_path):
    text = replace(GOOD, "  pooling: [average, max, attention]\n", "")
    text = replace(text, "  attention_units: {low: 4, high: 16, log: true, when: {pooling: attention}}\n", "")
    path = write(tmp_path, replace(text, "model: {epochs: 1,", "model: {pooling: gap, epochs: 1,"))
    assert errors_of(path) == (
        f"{path}: model.pooling: 'gap' is not allowed; expected 'average', 'max', 'attention', 'average_max', "
        "'gem', 'mixed' or 'flatten'",
    )


def test_missing_data_file(tmp_path):
    text = replace(GOOD, "data: {format: synthetic, n_examples: 200}", "data: {train: reviews.csv}")
    path = write(tmp_path, text)
    assert errors_of(path) == (f"{path}: data.train: no such file 'reviews.csv' (looked in {tmp_path.resolve()})",)


def test_unknown_sampler_and_bad_pruner_setting(tmp_path):
    path = write(tmp_path, GOOD + "sampler: {type: bayes}\npruner: {type: median, n_warmup_steps: -1}\n")
    assert errors_of(path) == (
        f"{path}: sampler.type: 'bayes' is not allowed; "
        "expected one of 'tpe', 'random', 'grid', 'gp', 'cmaes', 'qmc', 'nsga2'",
        f"{path}: pruner.n_warmup_steps: must be >= 0, but got -1",
    )


def test_metric_and_direction_are_required_and_must_agree(tmp_path):
    path = write(tmp_path, replace(GOOD, "direction: maximize\n", ""))
    assert errors_of(path) == (f"{path}: direction: required key missing",)
    path = write(tmp_path, replace(GOOD, "direction: maximize", "direction: minimize"))
    assert errors_of(path) == (
        f"{path}: direction: 'minimize' with metric 'val_accuracy' would pick the worst trials; expected 'maximize'",
    )


def test_a_name_is_fixed_or_searched_not_both(tmp_path):
    path = write(tmp_path, replace(GOOD, "model: {epochs: 1,", "model: {embedding_dim: 32, epochs: 1,"))
    assert errors_of(path) == (
        f"{path}: search_space.embedding_dim: is also fixed under model.embedding_dim; "
        "a hyperparameter is either fixed or searched, not both",
    )


def test_bad_values_in_choices_and_ranges(tmp_path):
    text = replace(GOOD, "embedding_dim: [8, 16]", "embedding_dim: [8, '16', 0]")
    text = replace(text, "dropout: {low: 0.0, high: 0.5}", "dropout: {low: 0.0, high: 1.5}")
    text = replace(text, "{low: 8, high: 32, step: 8}", "{low: 8.5, high: 32}")
    path = write(tmp_path, text)
    assert errors_of(path) == (
        f"{path}: search_space.embedding_dim[1]: expected an integer, but got '16'",
        f"{path}: search_space.embedding_dim[2]: must be >= 1, but got 0",
        f"{path}: search_space.filters.low: filters is an integer, but got 8.5",
        f"{path}: search_space.dropout.high: must be < 1.0, but got 1.5",
    )


def test_a_value_that_may_also_be_auto_names_auto_as_accepted(tmp_path):
    path = write(tmp_path, replace(GOOD, "learning_rate: 1e-4", "learning_rate: fast"))
    assert errors_of(path) == (f"{path}: model.learning_rate: expected a number or 'auto', but got 'fast'",)
    path = write(tmp_path, replace(GOOD, "learning_rate: 1e-4", "learning_rate: -1"))
    assert errors_of(path) == (f"{path}: model.learning_rate: must be > 0.0 or 'auto', but got -1",)


def test_range_on_a_categorical_hyperparameter(tmp_path):
    text = replace(GOOD, "pooling: [average, max, attention]", "pooling: {low: 0, high: 2}")
    text = replace(text, "when: {pooling: attention}", "when: {embedding_dim: 8}")
    path = write(tmp_path, text)
    assert errors_of(path) == (
        f"{path}: search_space.pooling: a range needs a numeric hyperparameter; "
        "give a list of choices from 'average', 'max', 'attention', 'average_max', 'gem', 'mixed', 'flatten'",
    )


def test_conditions_name_real_choices(tmp_path):
    path = write(tmp_path, replace(GOOD, "when: {pooling: attention}", "when: {pooling: attn}"))
    assert errors_of(path) == (
        f"{path}: search_space.attention_units.when.pooling: 'attn' is not among the choices of pooling "
        "('average', 'max', 'attention')",
    )
    path = write(tmp_path, replace(GOOD, "when: {pooling: attention}", "when: {poolin: attention}"))
    assert errors_of(path) == (
        f"{path}: search_space.attention_units.when.poolin: unknown parameter 'poolin'; did you mean 'pooling'?",
    )


def test_log_range_needs_positive_low_and_no_step(tmp_path):
    path = write(tmp_path, replace(GOOD, "{low: 4, high: 16, log: true,", "{low: 4, high: 16, log: true, step: 2,"))
    assert errors_of(path) == (
        f"{path}: search_space.attention_units: log and step cannot be used together; drop one of them",
    )


def test_grid_sampler_needs_finite_unconditional_space(tmp_path):
    path = write(tmp_path, GOOD + "sampler: {type: grid}\n")
    assert errors_of(path) == (
        f"{path}: search_space.dropout: the grid sampler needs a finite set of values: give a step or a list",
        f"{path}: search_space.attention_units.when: the grid sampler cannot search conditional parameters",
    )


def test_yaml_problems_name_line_and_column(tmp_path):
    path = write(tmp_path, "name: x\nmetric: val_accuracy\n  direction: maximize\n")
    assert errors_of(path) == (f"{path}:3:12: not valid YAML: mapping values are not allowed here",)
    # An unclosed bracket is pointed at where it opened, not where the parser gave up (the end of the file).
    path = write(tmp_path, "name: x\nsearch_space:\n  pooling: [average, max\n")
    assert errors_of(path) == (
        f"{path}:3:12: not valid YAML: the '[' here is not closed, or a ',' is missing in it "
        "(expected ',' or ']', but got '<stream end>')",
    )
    path = write(tmp_path, "name: x\nname: y\n")
    assert errors_of(path) == (f"{path}:2:1: not valid YAML: duplicate key 'name' (first on line 1)",)
    path = write(tmp_path, "- a\n- b\n")
    assert errors_of(path) == (f"{path}: expected a mapping of keys (name:, data:, ...) at the top, but got list",)
    assert errors_of(tmp_path / "absent.yaml") == (f"{tmp_path / 'absent.yaml'}: no such study file",)


def test_errors_survive_pickling(tmp_path):
    import pickle

    path = write(tmp_path, replace(GOOD, "n_trials: 4", "n_trials: 0"))
    with pytest.raises(StudyFileError) as caught:
        load_study(path)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is StudyFileError and copy.errors == caught.value.errors == (
        f"{path}: n_trials: must be >= 1, but got 0",
    )


def test_embedding_dim_is_the_vectors_dimension_read_once_at_load(tmp_path, monkeypatch):
    import gapsearch.spec.vectors_file

    (tmp_path / "v.vec").write_text("2 3\ngood 1 2 3\nbad 3 2 1\n")
    text = replace(GOOD, "model: {epochs: 1,", "model: {embedding: {vectors: v.vec}, epochs: 1,")
    spec = load_study(write(tmp_path, replace(text, "  embedding_dim: [8, 16]\n", "")))
    assert spec.model.embedding_dim == 3 and spec.source == (tmp_path / "study.yaml").resolve()

    def read_again(*args: object) -> None:
        raise AssertionError(f"the vectors file was read after the study file loaded: {args}")

    monkeypatch.setattr(gapsearch.spec.vectors_file, "open_vectors", read_again)
    assert spec.fixed["embedding_dim"] == 3 and spec.fixed["embedding_dim"] == 3
    assert spec.text is not None and "v.vec" in spec.text
