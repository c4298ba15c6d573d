"""Zeroing the padded time steps of a sequence of features."""

from __future__ import annotations

import keras
from keras import ops

from gapsearch.models.layers._base import real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class MaskPaddedSteps(keras.layers.Layer):
    """Sets the features of padded time steps to zero.

    A ``Conv1D`` with ``padding="same"`` reads the neighbours of each real token; at the end of a
    text those neighbours are padding, whose embedding (or the ``relu(bias)`` a previous
    convolution left there) would leak into the result. Zeroing them makes a padded step look
    exactly like the convolution's own zero padding, so the output does not depend on how much
    padding follows a text.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``inputs`` with the padded steps set to zero (``inputs`` itself when ``mask`` is None).
        No mask is attached to the output: pass the mask on explicitly.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs
        # where, not a multiplication: a non-finite value at a padded step must not become NaN.
        return ops.where(real_steps(inputs, mask), inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        # The mask is passed to each layer that needs it explicitly. Attaching it to the output would
        # make every following Conv1D (which has no mask support) warn that it drops the mask.
        return None

    def get_config(self):
        return super().get_config()  # no arguments of its own
