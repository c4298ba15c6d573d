import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import MaskedFlatten


def test_zeroes_padding_then_flattens(padded_batch):
    features, mask = padded_batch

    flat = ops.convert_to_numpy(MaskedFlatten()(features, mask=mask))

    expected = np.where(mask[..., None], features, 0.0).reshape(features.shape[0], -1)
    np.testing.assert_array_equal(flat, expected)
    np.testing.assert_array_equal(flat[0], 0.0)  # all padding


@pytest.mark.parametrize("padding_value", [np.inf, np.nan])
def test_non_finite_padding_does_not_reach_the_output(padded_batch, padding_value):
    features, mask = padded_batch
    poisoned = np.where(mask[..., None], features, np.float32(padding_value))
    assert np.isfinite(ops.convert_to_numpy(MaskedFlatten()(poisoned, mask=mask))).all()


def test_gradient_reaches_real_steps_only(padded_batch, gradient_wrt_inputs):
    features, mask = padded_batch
    upstream = np.ones((features.shape[0], features.shape[1] * features.shape[2]), dtype="float32")
    (d_inputs,) = (ops.convert_to_numpy(g) for g in gradient_wrt_inputs(MaskedFlatten(), features, mask, upstream))
    np.testing.assert_array_equal(d_inputs[mask], 1.0)
    np.testing.assert_array_equal(d_inputs[~mask], 0.0)


def test_needs_a_known_number_of_steps():
    with pytest.raises(ValueError, match="known number of steps"):
        MaskedFlatten().build((None, None, 4))


def test_saves_and_reloads(padded_batch, pooling_model, assert_save_load_round_trip):
    features, mask = padded_batch
    assert_save_load_round_trip(pooling_model(MaskedFlatten()), [features, mask])
    assert MaskedFlatten().compute_mask(features, mask) is None
