"""Global max pooling over the real time steps."""

from __future__ import annotations

import keras

from gapsearch.models.layers._base import MaskedGlobalPooling1D, masked_max, real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class MaskedGlobalMaxPooling1D(MaskedGlobalPooling1D):
    """Maximum of each feature over the real (unpadded) time steps.

    Unlike ``keras.layers.GlobalMaxPooling1D``, which ignores the mask, padded steps never win:
    otherwise a feature that is negative on every real token would pool to the padding's value.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, features)``; zeros for a row that is all padding.
    """

    layer_name = "max_pooling"
    explained_exactly = True

    def call(self, inputs, mask=None):
        return masked_max(inputs, real_steps(inputs, mask))

    def flops(self, steps: int, features: int) -> int:
        return steps * features  # one read per value
