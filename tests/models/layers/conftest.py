"""Shared inputs and checks for the layer tests."""

from __future__ import annotations

import keras
import numpy as np
import pytest

BATCH, STEPS, FEATURES = 6, 9, 5
PADDING_VALUE = 50.0
"""What the padded steps hold: above every real value, so a pooling that reads them is caught."""


@pytest.fixture
def padded_batch() -> tuple[np.ndarray, np.ndarray]:
    """Features ``(6, 9, 5)`` and a boolean mask ``(6, 9)``.

    Row 0 is all padding, row 1 has none, row 2 one real step; the other rows are random.
    Real values are standard normal, feature 0 negative on every step; padded steps hold ``PADDING_VALUE``.
    """
    rng = np.random.default_rng(7)
    mask = rng.random((BATCH, STEPS)) < 0.6
    mask[0] = False
    mask[1] = True
    mask[2] = False
    mask[2, 4] = True
    features = rng.standard_normal((BATCH, STEPS, FEATURES)).astype("float32")
    features[:, :, 0] = -np.abs(features[:, :, 0])  # a feature that is negative everywhere
    features[~mask] = PADDING_VALUE
    return features, mask


@pytest.fixture
def gradient_wrt_inputs():
    """``gradient(layer, features, mask, upstream)``: d sum(layer(features, mask) * upstream) / d features."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient helper is written for the tensorflow backend")
    import tensorflow as tf

    def gradient(layer, features, mask, upstream):
        features = tf.constant(features)
        with tf.GradientTape() as tape:
            tape.watch(features)
            loss = tf.reduce_sum(layer(features, mask=mask) * upstream)
        return tape.gradient(loss, [features, *layer.trainable_variables])

    return gradient


@pytest.fixture
def assert_save_load_round_trip(tmp_path):
    """``check(model, inputs)``: save to a ``.keras`` file, load it back, and demand identical outputs."""

    def check(model: keras.Model, inputs) -> keras.Model:
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(loaded(inputs)), keras.ops.convert_to_numpy(model(inputs))
        )
        return loaded

    return check


@pytest.fixture
def pooling_model():
    """``model(layer)``: a model of ``[features, mask]`` inputs shaped like ``padded_batch`` that pools with it."""

    def model(layer: keras.layers.Layer) -> keras.Model:
        features = keras.Input((STEPS, FEATURES), name="features")
        mask = keras.Input((STEPS,), dtype="bool", name="mask")
        return keras.Model([features, mask], layer(features, mask=mask))

    return model
