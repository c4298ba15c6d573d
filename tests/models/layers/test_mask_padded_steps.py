import keras
import numpy as np
import pytest
from keras import ops

from gapsearch.models.layers import MaskPaddedSteps


@pytest.mark.parametrize("padding_value", [50.0, np.inf, np.nan])
def test_padded_steps_become_zero_and_real_steps_stay(padded_batch, padding_value):
    features, mask = padded_batch
    features = np.where(mask[:, :, None], features, np.float32(padding_value))

    masked = ops.convert_to_numpy(MaskPaddedSteps()(features, mask=mask))

    np.testing.assert_array_equal(masked, np.where(mask[:, :, None], features, 0.0))


def test_without_a_mask_the_inputs_pass_unchanged(padded_batch):
    features, _ = padded_batch

    np.testing.assert_array_equal(ops.convert_to_numpy(MaskPaddedSteps()(features)), features)


def test_shape_kept_and_no_mask_attached(padded_batch):
    features, mask = padded_batch
    layer = MaskPaddedSteps()

    output = layer(keras.Input((9, 5)), mask=keras.Input((9,), dtype="bool"))

    assert output.shape == (None, 9, 5)
    assert layer.compute_output_shape((None, 9, 5)) == (None, 9, 5)
    # The builder passes the mask explicitly; an attached one would make each following Conv1D warn.
    assert layer.compute_mask(features, mask) is None


def test_config_round_trip_and_registered_name():
    config = MaskPaddedSteps(name="masked").get_config()

    assert MaskPaddedSteps.from_config(config).get_config() == config
    assert keras.saving.get_registered_name(MaskPaddedSteps) == "gapsearch>MaskPaddedSteps"
