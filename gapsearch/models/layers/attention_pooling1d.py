"""Attention pooling: a learned weighted mean over the real time steps."""

from __future__ import annotations

import keras
from keras import ops

from gapsearch.models.layers._base import MaskedGlobalPooling1D, lowest_finite, real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class AttentionPooling1D(MaskedGlobalPooling1D):
    """Weighted sum of the time steps, the weights a softmax of learned scores over the real steps.

    Each step is scored by ``Dense(1, use_bias=False)(Dense(units, activation="tanh")(step))``.
    Padded steps get weight exactly 0.

    Args:
        units: Hidden width of the scorer.
        **kwargs: Passed to ``keras.layers.Layer``.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, features)``; zeros for a row that is all padding.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"AttentionPooling1D needs units >= 1, but got units={units!r}.")
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="tanh", dtype=self.dtype_policy, name="hidden")
        self.scorer = keras.layers.Dense(1, use_bias=False, dtype=self.dtype_policy, name="scorer")

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.scorer.build(self.hidden.compute_output_shape(input_shape))

    def call(self, inputs, mask=None):
        real = real_steps(inputs, mask)
        # Zero the padded steps first: whatever they hold must reach neither the scores nor the gradient.
        inputs = ops.where(real, inputs, ops.zeros_like(inputs))
        scores = self.scorer(self.hidden(inputs))
        # The softmax is written out so that it runs over the real steps only. The padded scores are
        # replaced before the exp, not just dropped after it: their exp could overflow, and the zero
        # gradient of a where times an infinite exp is NaN.
        has_real = ops.any(real, axis=1, keepdims=True)
        zeros = ops.zeros_like(scores)
        lowest = ops.full_like(scores, lowest_finite(scores.dtype))
        highest = ops.max(ops.where(real, scores, lowest), axis=1, keepdims=True)
        highest = ops.stop_gradient(ops.where(has_real, highest, ops.zeros_like(highest)))
        exps = ops.where(real, ops.exp(ops.where(real, scores - highest, zeros)), zeros)
        total = ops.sum(exps, axis=1, keepdims=True)
        # The highest real step contributes exp(0) = 1, so total >= 1 unless the row is all padding;
        # dividing that row by 1 keeps its weights 0. where, not maximum: torch splits maximum's
        # gradient at a tie (total == 1, a single real step), which would bias the gradient.
        weights = exps / ops.where(has_real, total, ops.ones_like(total))
        return ops.sum(weights * inputs, axis=1)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config
