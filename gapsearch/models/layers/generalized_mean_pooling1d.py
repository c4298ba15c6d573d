"""Generalized-mean (GeM) pooling over the real time steps, with a learned exponent per channel."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import keras
from keras import ops

from gapsearch.models.layers._base import MaskedGlobalPooling1D, masked_sum, real_steps

if TYPE_CHECKING:
    from gapsearch.spec.hyperparameters import Hyperparameters


@keras.saving.register_keras_serializable(package="gapsearch")
class GeneralizedMeanPooling1D(MaskedGlobalPooling1D):
    """``(mean over the real steps of x ** p) ** (1 / p)`` per channel (Radenović et al., 2018).

    ``p = 1`` is average pooling and ``p`` growing tends to max pooling; each channel learns its own
    ``p``, kept at least 1 (``p = 1 + softplus(w)``). The generalized mean is defined for positive
    numbers: inputs below ``epsilon`` (negative ones included) are read as ``epsilon``, so the layer
    sees only the positive part of a feature and such inputs get no gradient. After a ReLU convolution
    nothing is lost; with ``encoder: none`` or a recurrent encoder the negative values are.

    Numerically safe for any ``p``: each channel is divided by its largest real value before the power
    and multiplied back after it, so no power overflows and the mean is at least ``1 / steps``.

    Args:
        p: The starting exponent, at least 1.
        epsilon: The floor of the inputs, above 0.
        **kwargs: Passed to ``keras.layers.Layer``.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, features)``; zeros for a row that is all padding.
    """

    layer_name = "gem_pooling"
    explained_exactly = False  # a power mean is no sum of per-step shares: occlusion explains it

    def __init__(self, p: float = 3.0, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        if p < 1.0:
            raise ValueError(f"GeneralizedMeanPooling1D needs p >= 1, but got p={p!r}.")
        if epsilon <= 0.0:
            raise ValueError(f"GeneralizedMeanPooling1D needs epsilon > 0, but got epsilon={epsilon!r}.")
        self.p = float(p)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        # softplus(w) = p - 1; p = 1 exactly would need w = -inf, so start a hair above it.
        excess = max(self.p - 1.0, 1e-3)
        start = excess + math.log(-math.expm1(-excess))  # softplus's inverse, stable for large excess
        self.p_excess = self.add_weight(
            shape=(input_shape[-1],), initializer=keras.initializers.Constant(start), name="p_excess"
        )

    @classmethod
    def from_hyperparameters(cls, hp: Hyperparameters, *, name: str) -> GeneralizedMeanPooling1D:
        return cls(hp.gem_p, name=name)

    def exponent(self):
        """Each channel's current ``p``."""
        return 1.0 + ops.softplus(self.p_excess)

    def call(self, inputs, mask=None):
        real = real_steps(inputs, mask)
        has_real = ops.any(real, axis=1)
        floor = ops.full_like(inputs, self.epsilon)
        positive = ops.where(real, ops.maximum(inputs, floor), floor)
        # Each channel's largest real value: dividing by it keeps every ratio in (0, 1].
        scale = ops.stop_gradient(ops.max(positive, axis=1, keepdims=True))
        p = ops.cast(self.exponent(), inputs.dtype)
        powered = ops.exp(p * ops.log(positive / scale))
        total, count = masked_sum(powered, real)  # in float32 under mixed precision
        mean = ops.cast(total / ops.maximum(count, 1), inputs.dtype)
        # The largest step contributes 1, so mean >= 1 / steps > 0 with a real step; 1 keeps the log finite without.
        mean = ops.where(has_real, mean, ops.ones_like(mean))
        pooled = ops.squeeze(scale, axis=1) * ops.exp(ops.log(mean) / p)
        return ops.where(has_real, pooled, ops.zeros_like(pooled))

    def flops(self, steps: int, features: int) -> int:
        return 4 * steps * features  # per value: divide, log, multiply, exp; the sums

    def get_config(self):
        config = super().get_config()
        config.update({"p": self.p, "epsilon": self.epsilon})
        return config
