import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import SqueezeExcitation1D


def numpy_se(layer: SqueezeExcitation1D, features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    out = np.zeros_like(features, dtype="float64")
    for row in range(features.shape[0]):
        real = features[row, mask[row]].astype("float64")
        squeeze = real.mean(axis=0) if len(real) else np.zeros(features.shape[2])
        gate = 1 / (1 + np.exp(-(np.maximum(squeeze @ w1 + b1, 0) @ w2 + b2)))
        out[row] = np.where(mask[row, :, None], features[row] * gate, 0.0)
    return out


@pytest.mark.parametrize("ratio", [1, 2, 8])
def test_matches_numpy_with_masks(padded_batch, ratio):
    features, mask = padded_batch
    layer = SqueezeExcitation1D(ratio)
    layer.build(features.shape)
    rng = np.random.default_rng(5)
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") for w in layer.get_weights()])

    scaled = ops.convert_to_numpy(layer(features, mask=mask))

    assert layer.hidden.units == max(1, features.shape[2] // ratio)
    np.testing.assert_allclose(scaled, numpy_se(layer, features, mask), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(scaled[0], 0.0)  # all padding: zeros, never NaN


def test_gradients_are_finite_and_padding_gets_none(padded_batch, gradient_wrt_inputs):
    features, mask = padded_batch
    layer = SqueezeExcitation1D(2)
    upstream = np.ones(features.shape, dtype="float32")

    gradients = [ops.convert_to_numpy(g) for g in gradient_wrt_inputs(layer, features, mask, upstream)]

    assert all(np.isfinite(g).all() for g in gradients)
    np.testing.assert_array_equal(gradients[0][~mask], 0.0)


def test_saves_and_reloads(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch
    loaded = assert_save_load_round_trip(pooling_model(SqueezeExcitation1D(2, name="se")), [features, mask])
    assert loaded.get_layer("se").get_config()["ratio"] == 2
    assert SqueezeExcitation1D().compute_mask(features, mask) is None
