"""Flattening a sequence of features with its padded steps zeroed: the baseline global pooling replaces."""

from __future__ import annotations

import keras
from keras import ops

from gapsearch.models.layers._base import MaskedPooling1D, real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class MaskedFlatten(MaskedPooling1D):
    """``(batch, steps, features)`` to ``(batch, steps * features)``, padded steps set to zero first.

    The layer after it has a weight per position and feature, so its parameter count grows with
    ``steps``: the cost the global poolings avoid (Lin et al., 2014). Zeroing the padded steps keeps
    what padding holds out of the result, so a text's output does not depend on its padding's content.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``, ``steps`` known when the layer is built.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, steps * features)``; zeros for a row that is all padding.
    """

    layer_name = "flatten"
    explained_exactly = False  # a weight per position is no pooling the decomposition reads: occlusion

    def build(self, input_shape):
        if input_shape[1] is None:
            raise ValueError(
                "MaskedFlatten needs a known number of steps (every batch padded to sequence_length), "
                f"but got input shape {tuple(input_shape)}."
            )

    def call(self, inputs, mask=None):
        # where, not a multiplication: a non-finite value at a padded step must not become NaN.
        zeroed = ops.where(real_steps(inputs, mask), inputs, ops.zeros_like(inputs))
        return ops.reshape(zeroed, (-1, inputs.shape[1] * inputs.shape[2]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] * input_shape[2])

    def flops(self, steps: int, features: int) -> int:
        return steps * features  # one zeroing per value

    def get_config(self):
        return super().get_config()  # no arguments of its own
