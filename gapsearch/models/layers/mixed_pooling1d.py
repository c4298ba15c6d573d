"""Mixed pooling: a learned per-channel blend of masked average and masked max pooling."""

from __future__ import annotations

import math

import keras
from keras import ops

from gapsearch.models.layers._base import MaskedGlobalPooling1D, masked_max, masked_mean, real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class MixedPooling1D(MaskedGlobalPooling1D):
    """``a * max + (1 - a) * average`` over the real steps, with ``a = sigmoid(w)`` learned per channel.

    Each channel learns where it sits between average pooling (``a`` near 0) and max pooling
    (``a`` near 1); ``w`` starts at ``logit(initial_blend)``.

    Args:
        initial_blend: The starting weight of the max, in (0, 1).
        **kwargs: Passed to ``keras.layers.Layer``.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, features)``; zeros for a row that is all padding.
    """

    layer_name = "mixed_pooling"
    explained_exactly = False  # the blend weights are learned per channel: occlusion explains it

    def __init__(self, initial_blend: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < initial_blend < 1.0:
            raise ValueError(f"MixedPooling1D needs 0 < initial_blend < 1, but got initial_blend={initial_blend!r}.")
        self.initial_blend = float(initial_blend)

    def build(self, input_shape):
        logit = math.log(self.initial_blend / (1.0 - self.initial_blend))
        self.blend_logit = self.add_weight(
            shape=(input_shape[-1],), initializer=keras.initializers.Constant(logit), name="blend_logit"
        )

    def call(self, inputs, mask=None):
        real = real_steps(inputs, mask)
        blend = ops.cast(ops.sigmoid(self.blend_logit), inputs.dtype)
        return blend * masked_max(inputs, real) + (1.0 - blend) * masked_mean(inputs, real)

    def flops(self, steps: int, features: int) -> int:
        return 2 * steps * features + 3 * features  # both poolings, then the blend

    def get_config(self):
        config = super().get_config()
        config["initial_blend"] = self.initial_blend
        return config
