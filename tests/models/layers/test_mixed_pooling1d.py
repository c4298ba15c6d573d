import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import MixedPooling1D


def numpy_mixed(features: np.ndarray, mask: np.ndarray, blend: np.ndarray) -> np.ndarray:
    pooled = np.zeros((features.shape[0], features.shape[2]))
    for row in range(features.shape[0]):
        real = features[row, mask[row]].astype("float64")
        if len(real):
            pooled[row] = blend * real.max(axis=0) + (1 - blend) * real.mean(axis=0)
    return pooled


@pytest.mark.parametrize("initial_blend", [0.1, 0.5, 0.9])
def test_matches_numpy_with_masks(padded_batch, initial_blend):
    features, mask = padded_batch
    layer = MixedPooling1D(initial_blend)

    pooled = ops.convert_to_numpy(layer(features, mask=mask))

    expected = numpy_mixed(features, mask, np.full(features.shape[2], initial_blend))
    np.testing.assert_allclose(pooled, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(pooled[0], np.zeros(features.shape[2]))  # all padding, never NaN


def test_each_channel_learns_its_own_blend(padded_batch):
    features, mask = padded_batch
    layer = MixedPooling1D()
    layer.build(features.shape)
    logits = np.linspace(-3, 3, features.shape[2]).astype("float32")
    layer.set_weights([logits])

    pooled = ops.convert_to_numpy(layer(features, mask=mask))

    np.testing.assert_allclose(pooled, numpy_mixed(features, mask, 1 / (1 + np.exp(-logits))), rtol=1e-5, atol=1e-6)


def test_gradients_are_finite_and_padding_gets_none(padded_batch, gradient_wrt_inputs):
    features, mask = padded_batch
    layer = MixedPooling1D()
    upstream = np.ones((features.shape[0], features.shape[2]), dtype="float32")

    d_inputs, d_blend = (ops.convert_to_numpy(g) for g in gradient_wrt_inputs(layer, features, mask, upstream))

    assert np.isfinite(d_inputs).all() and np.isfinite(d_blend).all()
    np.testing.assert_array_equal(d_inputs[~mask], 0.0)


def test_rejects_a_blend_outside_zero_one():
    with pytest.raises(ValueError, match="0 < initial_blend < 1"):
        MixedPooling1D(1.0)


def test_saves_and_reloads(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch
    loaded = assert_save_load_round_trip(pooling_model(MixedPooling1D(0.3, name="mixed")), [features, mask])
    assert loaded.get_layer("mixed").get_config()["initial_blend"] == 0.3
