"""The builder's speed options: any-length inputs for buckets, mixed precision, compile settings."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gapsearch.models.builder import build_model
from gapsearch.spec import Hyperparameters
from gapsearch.spec.hyperparameters import AUTO_LENGTH_BUCKETS, length_buckets

VOCABULARY_SIZE = 30


def hyperparameters(**options) -> Hyperparameters:
    return Hyperparameters(sequence_length=12, embedding_dim=4, filters=4, max_tokens=VOCABULARY_SIZE, **options)


def test_length_buckets_make_the_model_take_any_length():
    assert build_model(hyperparameters(length_buckets=0), vocabulary_size=VOCABULARY_SIZE, n_classes=2).input_shape == (
        None,
        12,
    )
    model = build_model(hyperparameters(length_buckets=4), vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert model.input_shape == (None, None)
    assert model.predict(np.ones((3, 5), dtype="int32"), verbose=0).shape == (3, 1)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, AUTO_LENGTH_BUCKETS),
        ({"pooling": "attention", "encoder": "gru"}, AUTO_LENGTH_BUCKETS),
        ({"pooling": "flatten"}, 0),  # per-position weights need the full width
        ({"mask_padding": False}, 0),  # padding would count, so a shorter batch would change the output
        ({"length_buckets": 2, "pooling": "max"}, 2),
        ({"length_buckets": 0}, 0),
    ],
)
def test_length_buckets_are_on_by_default_only_where_every_output_stays_the_same(options, expected):
    hp = hyperparameters(**options)
    assert length_buckets(hp) == expected
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert model.input_shape == ((None, None) if expected else (None, 12))


def test_steps_per_execution_and_jit_compile_reach_the_compiled_model():
    model = build_model(
        hyperparameters(steps_per_execution=8, jit_compile=False), vocabulary_size=VOCABULARY_SIZE, n_classes=3
    )
    assert model.steps_per_execution == 8
    assert model.jit_compile is False


def test_steps_per_execution_auto_is_several_steps_per_call_except_under_torch():
    from gapsearch.spec.hyperparameters import AUTO_STEPS_PER_EXECUTION, steps_per_execution

    assert hyperparameters().steps_per_execution == "auto"
    model = build_model(hyperparameters(), vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert keras.backend.backend() == "tensorflow"
    assert model.steps_per_execution == AUTO_STEPS_PER_EXECUTION > 1
    assert steps_per_execution("auto", "jax") == AUTO_STEPS_PER_EXECUTION
    assert steps_per_execution("auto", "torch") == 1  # Keras' torch trainer refuses any other value
    assert steps_per_execution(4, "tensorflow") == 4


def test_mixed_precision_computes_in_float16_keeps_a_float32_output_and_restores_the_policy():
    before = keras.config.dtype_policy().name
    model = build_model(hyperparameters(mixed_precision=True), vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert keras.config.dtype_policy().name == before
    assert model.get_layer("conv1d_1").compute_dtype == "float16"
    assert model.get_layer("conv1d_1").variable_dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    x = np.array([[3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]] * 8, dtype="int32")
    history = model.fit(x, np.ones(8, dtype="int32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    plain = build_model(hyperparameters(), vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert plain.get_layer("conv1d_1").compute_dtype == "float32"


def test_bfloat16_mixed_precision_computes_in_bfloat16_without_loss_scaling():
    model = build_model(hyperparameters(mixed_precision="bfloat16"), vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert model.get_layer("conv1d_1").compute_dtype == "bfloat16"
    assert model.get_layer("conv1d_1").variable_dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"
    assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)  # bf16 has float32's range
    x = np.array([[3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]] * 8, dtype="int32")
    assert np.isfinite(model.fit(x, np.ones(8, dtype="int32"), epochs=1, verbose=0).history["loss"][0])
    same = build_model(hyperparameters(mixed_precision="float16"), vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert same.get_layer("conv1d_1").compute_dtype == "float16"


def test_a_range_over_a_switch_is_answered_with_its_values(tmp_path):
    from gapsearch.errors import StudyFileError
    from gapsearch.spec import load_study

    path = tmp_path / "study.yaml"
    path.write_text(
        "name: s\nmetric: val_accuracy\ndirection: maximize\nn_trials: 2\n"
        "data: {format: synthetic, n_examples: 100}\n"
        "search_space:\n  mixed_precision: {low: 0, high: 1}\n  jit_compile: {low: 0, high: 1}\n"
    )
    with pytest.raises(StudyFileError) as caught:
        load_study(path)
    assert caught.value.errors == (
        f"{path}: search_space.mixed_precision: a range needs a numeric hyperparameter; "
        "give a list of choices from true, false, 'float16', 'bfloat16'",
        f"{path}: search_space.jit_compile: a range needs a numeric hyperparameter; "
        "give a list of choices from true, false, 'auto'",
    )
