import keras
import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import MaskedGlobalMaxPooling1D


def numpy_masked_max(features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    pooled = np.zeros((features.shape[0], features.shape[2]), dtype=features.dtype)
    for row in range(features.shape[0]):
        if mask[row].any():
            pooled[row] = features[row][mask[row]].max(axis=0)
    return pooled


@pytest.mark.parametrize("mask_dtype", ["bool", "int32", "float32"])
def test_max_over_real_steps_matches_numpy(padded_batch, mask_dtype):
    features, mask = padded_batch

    pooled = ops.convert_to_numpy(MaskedGlobalMaxPooling1D()(features, mask=mask.astype(mask_dtype)))

    np.testing.assert_array_equal(pooled, numpy_masked_max(features, mask))
    np.testing.assert_array_equal(pooled[0], np.zeros(features.shape[2]))  # all padding
    np.testing.assert_array_equal(pooled[1], features[1].max(axis=0))  # no padding
    np.testing.assert_array_equal(pooled[2], features[2, 4])  # one real step
    assert (pooled[1:, 0] < 0).all()  # feature 0 is negative on every real step; padding (50) never wins


def test_without_a_mask_every_step_is_real(padded_batch):
    features, _ = padded_batch

    pooled = ops.convert_to_numpy(MaskedGlobalMaxPooling1D()(features))

    np.testing.assert_array_equal(pooled, features.max(axis=1))


@pytest.mark.parametrize("padding_value", [np.inf, -np.inf, np.nan])
def test_non_finite_padded_steps_do_not_reach_the_output(padded_batch, padding_value):
    features, mask = padded_batch
    poisoned = np.where(mask[:, :, None], features, np.float32(padding_value))

    pooled = ops.convert_to_numpy(MaskedGlobalMaxPooling1D()(poisoned, mask=mask))

    np.testing.assert_array_equal(pooled, numpy_masked_max(features, mask))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_other_float_dtypes(padded_batch, dtype):
    features, mask = padded_batch
    layer = MaskedGlobalMaxPooling1D(dtype=dtype)

    pooled = layer(ops.cast(features, dtype), mask=mask)

    assert keras.backend.standardize_dtype(pooled.dtype) == dtype
    expected = numpy_masked_max(ops.convert_to_numpy(ops.cast(ops.cast(features, dtype), "float32")), mask)
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.cast(pooled, "float32")), expected)


@pytest.mark.parametrize("padding_value", [50.0, np.nan])
def test_gradient_is_exact_and_zero_on_padding(padded_batch, gradient_wrt_inputs, padding_value):
    features, mask = padded_batch
    features = np.where(mask[:, :, None], features, np.float32(padding_value))
    upstream = np.random.default_rng(1).standard_normal((features.shape[0], features.shape[2])).astype("float32")

    (gradient,) = gradient_wrt_inputs(MaskedGlobalMaxPooling1D(), features, mask, upstream)

    # The upstream gradient goes to the real step that holds the maximum (random data: no ties), nowhere else.
    expected = np.zeros_like(features)
    for row in range(1, features.shape[0]):
        real_steps = np.flatnonzero(mask[row])
        winners = real_steps[features[row, real_steps].argmax(axis=0)]
        expected[row, winners, np.arange(features.shape[2])] = upstream[row]
    np.testing.assert_array_equal(ops.convert_to_numpy(gradient), expected)


def test_output_shape_and_no_output_mask(padded_batch):
    features, mask = padded_batch
    layer = MaskedGlobalMaxPooling1D()

    assert layer.compute_output_shape((None, 9, 5)) == (None, 5)
    assert layer(keras.Input((9, 5)), mask=keras.Input((9,), dtype="bool")).shape == (None, 5)
    assert layer.compute_mask(features, mask) is None


def test_config_round_trip_and_registered_name():
    layer = MaskedGlobalMaxPooling1D(name="pool")

    config = layer.get_config()

    assert MaskedGlobalMaxPooling1D.from_config(config).get_config() == config
    assert keras.saving.get_registered_name(MaskedGlobalMaxPooling1D) == "gapsearch>MaskedGlobalMaxPooling1D"


def test_save_load_round_trip(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch

    loaded = assert_save_load_round_trip(pooling_model(MaskedGlobalMaxPooling1D(name="pool")), [features, mask])

    assert type(loaded.get_layer("pool")) is MaskedGlobalMaxPooling1D
