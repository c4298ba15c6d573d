"""The padding mask of a batch of token ids."""

from __future__ import annotations

import keras
from keras import ops

PADDING_ID = 0
"""The token id that pads a text up to the sequence length."""


@keras.saving.register_keras_serializable(package="gapsearch")
class PaddingMask(keras.layers.Layer):
    """Marks the real (non-padding) tokens of a batch of token ids.

    The mask is an ordinary output rather than one attached by ``Embedding(mask_zero=True)``,
    so the builder can hand it to every layer that needs it explicitly instead of relying on
    implicit mask propagation, which layers without mask support silently drop.

    Call arguments:
        inputs: Integer token ids, shape ``(batch, steps)``; id 0 is padding.
        mask: Ignored: the mask is what this layer computes.

    Returns:
        A boolean tensor of shape ``(batch, steps)``, True where the id is not padding.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def call(self, inputs, mask=None):
        del mask  # an incoming mask cannot say more than the ids themselves
        return ops.not_equal(inputs, PADDING_ID)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs, mask=None):
        return keras.KerasTensor(inputs.shape, dtype="bool")

    def compute_mask(self, inputs, mask=None):
        # The output is a mask, not a sequence of features: nothing downstream should be masked by it implicitly.
        return None

    def get_config(self):
        return super().get_config()  # no arguments of its own
