import keras
import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import MaskedGlobalAveragePooling1D


def numpy_masked_mean(features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    pooled = np.zeros((features.shape[0], features.shape[2]), dtype=features.dtype)
    for row in range(features.shape[0]):
        if mask[row].any():
            pooled[row] = features[row][mask[row]].mean(axis=0)
    return pooled


@pytest.mark.parametrize("mask_dtype", ["bool", "int32", "float32"])
def test_mean_over_real_steps_matches_numpy(padded_batch, mask_dtype):
    features, mask = padded_batch

    pooled = ops.convert_to_numpy(MaskedGlobalAveragePooling1D()(features, mask=mask.astype(mask_dtype)))

    np.testing.assert_allclose(pooled, numpy_masked_mean(features, mask), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(pooled[0], np.zeros(features.shape[2]))  # all padding
    np.testing.assert_allclose(pooled[1], features[1].mean(axis=0), rtol=1e-6)  # no padding
    np.testing.assert_array_equal(pooled[2], features[2, 4])  # one real step


def test_without_a_mask_every_step_is_real(padded_batch):
    features, _ = padded_batch

    pooled = ops.convert_to_numpy(MaskedGlobalAveragePooling1D()(features))

    np.testing.assert_allclose(pooled, features.mean(axis=1), rtol=1e-6)


@pytest.mark.parametrize("padding_value", [np.inf, -np.inf, np.nan])
def test_non_finite_padded_steps_do_not_reach_the_output(padded_batch, padding_value):
    features, mask = padded_batch
    poisoned = np.where(mask[:, :, None], features, np.float32(padding_value))

    pooled = ops.convert_to_numpy(MaskedGlobalAveragePooling1D()(poisoned, mask=mask))

    np.testing.assert_allclose(pooled, numpy_masked_mean(features, mask), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("padding_value", [50.0, np.nan])
def test_gradient_is_exact_and_zero_on_padding(padded_batch, gradient_wrt_inputs, padding_value):
    features, mask = padded_batch
    features = np.where(mask[:, :, None], features, np.float32(padding_value))
    upstream = np.random.default_rng(1).standard_normal((features.shape[0], features.shape[2])).astype("float32")

    (gradient,) = gradient_wrt_inputs(MaskedGlobalAveragePooling1D(), features, mask, upstream)

    count = np.maximum(mask.sum(axis=1), 1)[:, None, None]
    expected = mask[:, :, None] * upstream[:, None, :] / count
    np.testing.assert_allclose(ops.convert_to_numpy(gradient), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(ops.convert_to_numpy(gradient)[0], 0.0)  # all padding: finite zeros


def test_output_shape_and_no_output_mask(padded_batch):
    features, mask = padded_batch
    layer = MaskedGlobalAveragePooling1D()

    assert layer.compute_output_shape((None, 9, 5)) == (None, 5)
    assert layer(keras.Input((9, 5)), mask=keras.Input((9,), dtype="bool")).shape == (None, 5)
    assert layer.compute_mask(features, mask) is None


def test_config_round_trip_and_registered_name():
    layer = MaskedGlobalAveragePooling1D(name="pool")

    config = layer.get_config()

    assert MaskedGlobalAveragePooling1D.from_config(config).get_config() == config
    assert keras.saving.get_registered_name(MaskedGlobalAveragePooling1D) == "gapsearch>MaskedGlobalAveragePooling1D"


def test_save_load_round_trip(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch

    loaded = assert_save_load_round_trip(pooling_model(MaskedGlobalAveragePooling1D(name="pool")), [features, mask])

    assert type(loaded.get_layer("pool")) is MaskedGlobalAveragePooling1D
