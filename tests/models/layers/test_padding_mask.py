import keras
import numpy as np
from keras import ops

from gapsearch.models.layers import MaskPaddedSteps, PaddingMask

IDS = np.array([[5, 3, 9, 0, 0], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5], [7, 0, 2, 0, 0]], dtype="int32")


def test_true_exactly_where_the_id_is_not_padding():
    mask = ops.convert_to_numpy(PaddingMask()(IDS))

    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, IDS != 0)


def test_symbolic_output_is_a_boolean_mask_with_no_mask_of_its_own():
    layer = PaddingMask()

    mask = layer(keras.Input((5,), dtype="int32"))

    assert mask.dtype == "bool"
    assert mask.shape == (None, 5)
    assert layer.compute_output_shape((None, 5)) == (None, 5)
    assert layer.compute_mask(IDS) is None


def test_config_round_trip_and_registered_name():
    config = PaddingMask(name="mask").get_config()

    assert PaddingMask.from_config(config).get_config() == config
    assert keras.saving.get_registered_name(PaddingMask) == "gapsearch>PaddingMask"


def test_save_load_round_trip_of_ids_to_masked_embeddings(assert_save_load_round_trip):
    ids = keras.Input((5,), dtype="int32")
    mask = PaddingMask(name="mask")(ids)
    embedded = MaskPaddedSteps(name="masked")(keras.layers.Embedding(10, 3)(ids), mask=mask)
    model = keras.Model(ids, embedded)

    loaded = assert_save_load_round_trip(model, IDS)

    assert type(loaded.get_layer("mask")) is PaddingMask
    assert type(loaded.get_layer("masked")) is MaskPaddedSteps
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded(IDS))[IDS == 0], 0.0)
