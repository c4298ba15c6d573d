import keras
import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import AttentionPooling1D

UNITS = 4


def built_layer(features_dim: int, dtype: str = "float32", name: str | None = None) -> AttentionPooling1D:
    """An attention pooling with weights large enough that the softmax is far from uniform."""
    layer = AttentionPooling1D(UNITS, dtype=dtype, name=name)
    layer.build((None, None, features_dim))
    rng = np.random.default_rng(3)
    layer.set_weights(
        [
            rng.standard_normal((features_dim, UNITS)),
            rng.standard_normal(UNITS),
            2.0 * rng.standard_normal((UNITS, 1)),
        ]
    )
    return layer


def numpy_attention(layer: AttentionPooling1D, features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    hidden_kernel, hidden_bias, score_kernel = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    features = features.astype("float64")
    scores = (np.tanh(features @ hidden_kernel + hidden_bias) @ score_kernel)[..., 0]
    pooled = np.zeros((features.shape[0], features.shape[2]))
    for row in range(features.shape[0]):
        real = mask[row]
        if real.any():
            weights = np.exp(scores[row, real] - scores[row, real].max())
            pooled[row] = (weights / weights.sum()) @ features[row, real]
    return pooled


def test_weights_are_created_in_build():
    layer = AttentionPooling1D(UNITS)
    assert layer.weights == []

    layer.build((None, 9, 5))

    assert [tuple(w.shape) for w in layer.trainable_weights] == [(5, UNITS), (UNITS,), (UNITS, 1)]


@pytest.mark.parametrize("mask_dtype", ["bool", "int32", "float32"])
def test_softmax_over_real_steps_matches_numpy(padded_batch, mask_dtype):
    features, mask = padded_batch
    layer = built_layer(features.shape[2])

    pooled = ops.convert_to_numpy(layer(features, mask=mask.astype(mask_dtype)))

    np.testing.assert_allclose(pooled, numpy_attention(layer, features, mask), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(pooled[0], np.zeros(features.shape[2]))  # all padding
    np.testing.assert_allclose(pooled[2], features[2, 4], rtol=1e-6)  # one real step: weight 1


def test_without_a_mask_every_step_is_real(padded_batch):
    features, mask = padded_batch
    layer = built_layer(features.shape[2])

    pooled = ops.convert_to_numpy(layer(features))

    np.testing.assert_allclose(pooled, numpy_attention(layer, features, np.ones_like(mask)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding_value", [np.inf, -np.inf, np.nan])
def test_non_finite_padded_steps_do_not_reach_the_output(padded_batch, padding_value):
    features, mask = padded_batch
    layer = built_layer(features.shape[2])
    poisoned = np.where(mask[:, :, None], features, np.float32(padding_value))

    pooled = ops.convert_to_numpy(layer(poisoned, mask=mask))

    np.testing.assert_allclose(pooled, numpy_attention(layer, features, mask), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding_value", [50.0, np.nan])
def test_gradient_matches_finite_differences_and_is_zero_on_padding(padded_batch, gradient_wrt_inputs, padding_value):
    # float64 so that central differences of the NumPy reference are accurate to ~1e-9.
    features, mask = padded_batch
    features = np.where(mask[:, :, None], features, padding_value).astype("float64")
    layer = built_layer(features.shape[2], dtype="float64")
    upstream = np.random.default_rng(1).standard_normal((features.shape[0], features.shape[2]))

    gradient, *weight_gradients = gradient_wrt_inputs(layer, features, mask, upstream)

    step = 1e-6
    expected = np.zeros_like(features)
    for index in np.argwhere(np.broadcast_to(mask[:, :, None], features.shape)):
        index = tuple(index)
        up, down = features.copy(), features.copy()
        up[index] += step
        down[index] -= step
        difference = numpy_attention(layer, up, mask) - numpy_attention(layer, down, mask)
        expected[index] = (difference * upstream).sum() / (2 * step)
    np.testing.assert_allclose(ops.convert_to_numpy(gradient), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ops.convert_to_numpy(gradient)[~mask], 0.0)  # padding, all-padding row 0 too
    assert all(np.isfinite(ops.convert_to_numpy(g)).all() for g in weight_gradients)
    assert len(weight_gradients) == 3


def test_gradient_stays_finite_when_real_scores_are_far_below_the_padding_score(padded_batch, gradient_wrt_inputs):
    # Real steps score about -200, a (zeroed) padded step 0: exp(0 - (-200)) overflows float32. The
    # padded steps must be removed before the exp, or the gradient through it is 0 * inf = NaN.
    features, mask = padded_batch
    features = -np.abs(features) - 0.5
    layer = AttentionPooling1D(UNITS)
    layer.build((None, None, features.shape[2]))
    layer.set_weights([np.full((features.shape[2], UNITS), 10.0), np.zeros(UNITS), np.full((UNITS, 1), 50.0)])
    upstream = np.ones((features.shape[0], features.shape[2]), dtype="float32")

    gradient, *weight_gradients = gradient_wrt_inputs(layer, features, mask, upstream)

    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(features, mask=mask)), numpy_attention(layer, features, mask), rtol=1e-5, atol=1e-6
    )
    assert np.isfinite(ops.convert_to_numpy(gradient)).all()
    assert all(np.isfinite(ops.convert_to_numpy(g)).all() for g in weight_gradients)


def test_output_shape_and_no_output_mask(padded_batch):
    features, mask = padded_batch
    layer = AttentionPooling1D(UNITS)

    assert layer.compute_output_shape((None, 9, 5)) == (None, 5)
    assert layer(keras.Input((9, 5)), mask=keras.Input((9,), dtype="bool")).shape == (None, 5)
    assert layer.compute_mask(features, mask) is None


def test_config_round_trip_and_registered_name(padded_batch):
    features, mask = padded_batch
    layer = built_layer(features.shape[2], name="pool")

    config = layer.get_config()
    clone = AttentionPooling1D.from_config(config)
    clone.build((None, None, features.shape[2]))
    clone.set_weights(layer.get_weights())

    assert config["units"] == UNITS
    assert clone.get_config() == config
    np.testing.assert_array_equal(ops.convert_to_numpy(clone(features, mask=mask)), layer(features, mask=mask))
    assert keras.saving.get_registered_name(AttentionPooling1D) == "gapsearch>AttentionPooling1D"


def test_save_load_round_trip(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch
    model = pooling_model(AttentionPooling1D(UNITS, name="pool"))
    model.get_layer("pool").set_weights(built_layer(features.shape[2]).get_weights())

    loaded = assert_save_load_round_trip(model, [features, mask])

    assert type(loaded.get_layer("pool")) is AttentionPooling1D
    saved, restored = model.get_layer("pool").get_weights(), loaded.get_layer("pool").get_weights()
    for saved_weight, restored_weight in zip(saved, restored, strict=True):
        np.testing.assert_array_equal(saved_weight, restored_weight)


def numpy_multihead(layer: AttentionPooling1D, features: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Heads, null slot and temperature: each head's softmax over the real steps (and the null's score)."""
    as_numpy = lambda variable: np.asarray(ops.convert_to_numpy(variable), dtype="float64")  # noqa: E731
    hidden_kernel, hidden_bias = as_numpy(layer.hidden.kernel), as_numpy(layer.hidden.bias)
    score_kernel = as_numpy(layer.scorer.kernel)
    null = as_numpy(layer.null_score) if layer.null_slot else None
    features = features.astype("float64")
    scores = (np.tanh(features @ hidden_kernel + hidden_bias) @ score_kernel) / layer.temperature
    pooled = np.zeros((features.shape[0], layer.heads, features.shape[2]))
    for row in range(features.shape[0]):
        real = mask[row]
        for head in range(layer.heads):
            logits = scores[row, real, head]
            if null is not None:
                logits = np.append(logits, null[head] / layer.temperature)
            if len(logits) == 0:
                continue
            exps = np.exp(logits - logits.max())
            share = exps / exps.sum()
            pooled[row, head] = share[: real.sum()] @ features[row, real]
    return pooled.reshape(features.shape[0], -1)


@pytest.mark.parametrize(("heads", "null_slot", "temperature"), [(2, False, 1.0), (3, True, 0.5), (1, True, 4.0)])
def test_heads_null_slot_and_temperature_match_numpy(padded_batch, heads, null_slot, temperature):
    features, mask = padded_batch
    layer = AttentionPooling1D(UNITS, heads=heads, null_slot=null_slot, temperature=temperature)
    layer.build((None, None, features.shape[2]))
    rng = np.random.default_rng(4)
    layer.set_weights([2.0 * rng.standard_normal(w.shape) for w in layer.get_weights()])

    pooled = ops.convert_to_numpy(layer(features, mask=mask))

    assert pooled.shape == (features.shape[0], heads * features.shape[2])
    np.testing.assert_allclose(pooled, numpy_multihead(layer, features, mask), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(pooled[0], 0.0)  # all padding: zeros, never NaN
    if null_slot:  # some weight goes to "nothing": a single real step is no longer copied whole
        assert np.abs(pooled[2]).sum() < heads * np.abs(features[2, 4]).sum()


def test_null_slot_gradients_are_finite(padded_batch, gradient_wrt_inputs):
    features, mask = padded_batch
    layer = AttentionPooling1D(UNITS, heads=2, null_slot=True)
    upstream = np.ones((features.shape[0], 2 * features.shape[2]), dtype="float32")

    gradients = [ops.convert_to_numpy(g) for g in gradient_wrt_inputs(layer, features, mask, upstream)]

    assert all(np.isfinite(g).all() for g in gradients)
    np.testing.assert_array_equal(gradients[0][~mask], 0.0)
    assert np.abs(gradients[-1]).sum() > 0  # the null score learns


def test_heads_and_null_slot_save_and_reload(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch
    layer = AttentionPooling1D(UNITS, heads=2, null_slot=True, temperature=2.0, name="attention")
    loaded = assert_save_load_round_trip(pooling_model(layer), [features, mask])
    config = loaded.get_layer("attention").get_config()
    assert (config["heads"], config["null_slot"], config["temperature"]) == (2, True, 2.0)
