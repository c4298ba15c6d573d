import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import GeneralizedMeanPooling1D


def numpy_gem(features: np.ndarray, mask: np.ndarray, p: np.ndarray, epsilon: float) -> np.ndarray:
    """The generalized mean over the real steps, inputs floored at epsilon; 0 for a row of padding."""
    pooled = np.zeros((features.shape[0], features.shape[2]))
    for row in range(features.shape[0]):
        real = features[row, mask[row]].astype("float64")
        if len(real):
            pooled[row] = np.mean(np.maximum(real, epsilon) ** p, axis=0) ** (1.0 / p)
    return pooled


@pytest.mark.parametrize("p", [1.0, 3.0, 12.0])
def test_matches_numpy_with_masks(padded_batch, p):
    features, mask = padded_batch
    layer = GeneralizedMeanPooling1D(p)

    pooled = ops.convert_to_numpy(layer(features, mask=mask))

    exponent = ops.convert_to_numpy(layer.exponent())
    np.testing.assert_allclose(exponent, np.full(features.shape[2], max(p, 1.001)), rtol=1e-4)
    np.testing.assert_allclose(pooled, numpy_gem(features, mask, exponent, 1e-6), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(pooled[0], np.zeros(features.shape[2]))  # all padding
    np.testing.assert_allclose(pooled[1:, 0], 1e-6, rtol=1e-3)  # negative everywhere: read as epsilon
    assert np.isfinite(pooled).all()


def test_large_exponent_tends_to_the_masked_max(padded_batch):
    features, mask = padded_batch
    pooled = ops.convert_to_numpy(GeneralizedMeanPooling1D(20.0)(features, mask=mask))
    highest = np.where(mask[..., None], features, -np.inf).max(axis=1)
    np.testing.assert_allclose(pooled[1:, 1:], np.maximum(highest[1:, 1:], 1e-6), rtol=0.12)


def test_gradients_are_finite_and_padding_gets_none(padded_batch, gradient_wrt_inputs):
    features, mask = padded_batch
    layer = GeneralizedMeanPooling1D(3.0)
    upstream = np.random.default_rng(1).standard_normal((features.shape[0], features.shape[2])).astype("float32")

    d_inputs, d_exponent = (ops.convert_to_numpy(g) for g in gradient_wrt_inputs(layer, features, mask, upstream))

    assert np.isfinite(d_inputs).all() and np.isfinite(d_exponent).all()
    np.testing.assert_array_equal(d_inputs[~mask], 0.0)
    assert np.abs(d_exponent).sum() > 0


def test_rejects_an_exponent_below_one():
    with pytest.raises(ValueError, match="p >= 1"):
        GeneralizedMeanPooling1D(0.5)


def test_saves_and_reloads(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch
    model = pooling_model(GeneralizedMeanPooling1D(4.0, name="gem"))
    loaded = assert_save_load_round_trip(model, [features, mask])
    assert loaded.get_layer("gem").get_config()["p"] == 4.0
    assert GeneralizedMeanPooling1D().compute_mask(features, mask) is None
