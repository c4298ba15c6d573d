"""Attention pooling: learned weighted means over the real time steps, optionally several and with a null slot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import ops

from gapsearch.models.layers._base import MaskedGlobalPooling1D, accumulation_dtype, lowest_finite, real_steps

if TYPE_CHECKING:
    from gapsearch.spec.hyperparameters import Hyperparameters


@keras.saving.register_keras_serializable(package="gapsearch")
class AttentionPooling1D(MaskedGlobalPooling1D):
    """Weighted sums of the time steps, the weights a softmax of learned scores over the real steps.

    Each step is scored by ``Dense(heads, use_bias=False)(Dense(units, activation="tanh")(step))``,
    one score per head, divided by ``temperature``. Each head's weighted sum of the features is
    concatenated (Lin et al., 2017). Padded steps get weight exactly 0.

    With ``null_slot``, each head's softmax also runs over one extra slot with a learned score and a
    value of zero: "nothing". Without it the weights over a text's real tokens always sum to 1; with
    it a head can give part of its weight to nothing, which unmasked attention can only do by
    attending to padding (whose amount varies with the text's length).

    Args:
        units: Hidden width of the scorer.
        heads: Number of weightings; the output has ``heads * features`` values.
        null_slot: Add the learned "nothing" slot to every head.
        temperature: The scores are divided by it before the softmax (above 1 is flatter, below sharper).
        **kwargs: Passed to ``keras.layers.Layer``.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, heads * features)``, head by head; zeros for a row that is all padding.
    """

    layer_name = "attention_pooling"
    explained_exactly = True

    def __init__(self, units: int, heads: int = 1, null_slot: bool = False, temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"AttentionPooling1D needs units >= 1, but got units={units!r}.")
        if heads < 1:
            raise ValueError(f"AttentionPooling1D needs heads >= 1, but got heads={heads!r}.")
        if not temperature > 0:
            raise ValueError(f"AttentionPooling1D needs temperature > 0, but got temperature={temperature!r}.")
        self.units = units
        self.heads = int(heads)
        self.null_slot = bool(null_slot)
        self.temperature = float(temperature)
        self.hidden = keras.layers.Dense(units, activation="tanh", dtype=self.dtype_policy, name="hidden")
        self.scorer = keras.layers.Dense(self.heads, use_bias=False, dtype=self.dtype_policy, name="scorer")

    @classmethod
    def from_hyperparameters(cls, hp: Hyperparameters, *, name: str) -> AttentionPooling1D:
        return cls(
            hp.attention_units,
            heads=hp.attention_heads,
            null_slot=hp.attention_null,
            temperature=hp.attention_temperature,
            name=name,
        )

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.scorer.build(self.hidden.compute_output_shape(input_shape))
        if self.null_slot:
            self.null_score = self.add_weight(shape=(self.heads,), initializer="zeros", name="null_score")

    def call(self, inputs, mask=None):
        real = real_steps(inputs, mask)
        # Zero the padded steps first: whatever they hold must reach neither the scores nor the gradient.
        inputs = ops.where(real, inputs, ops.zeros_like(inputs))
        scores = self.scorer(self.hidden(inputs))
        if self.temperature != 1.0:
            scores = scores / self.temperature
        # The softmax is written out so that it runs over the real steps only. The padded scores are
        # replaced before the exp, not just dropped after it: their exp could overflow, and the zero
        # gradient of a where times an infinite exp is NaN.
        has_real = ops.any(real, axis=1, keepdims=True)
        zeros = ops.zeros_like(scores)
        lowest = ops.full_like(scores, lowest_finite(scores.dtype))
        highest = ops.max(ops.where(real, scores, lowest), axis=1, keepdims=True)
        if self.null_slot:
            null = ops.reshape(ops.cast(self.null_score, scores.dtype), (1, 1, self.heads)) / self.temperature
            highest = ops.stop_gradient(ops.maximum(highest, null))
        else:
            highest = ops.stop_gradient(ops.where(has_real, highest, ops.zeros_like(highest)))
        exps = ops.where(real, ops.exp(ops.where(real, scores - highest, zeros)), zeros)
        # The weights and the weighted sums are taken in float32 under mixed precision: in bfloat16, 400
        # weights near 1 would not add up to their sum, nor 400 weighted features to theirs.
        wide = accumulation_dtype(inputs.dtype)
        exps = ops.cast(exps, wide)
        total = ops.sum(exps, axis=1, keepdims=True)
        if self.null_slot:  # noqa: SIM108 - each branch has its reason
            # The largest of the real scores and the null's contributes exp(0) = 1, so total >= 1.
            total = total + ops.cast(ops.exp(null - highest), wide)
        else:
            # The highest real step contributes exp(0) = 1, so total >= 1 unless the row is all padding;
            # dividing that row by 1 keeps its weights 0. where, not maximum: torch splits maximum's
            # gradient at a tie (total == 1, a single real step), which would bias the gradient.
            total = ops.where(has_real, total, ops.ones_like(total))
        weights = exps / total
        features = ops.cast(inputs, wide)
        if self.heads == 1:
            return ops.cast(ops.sum(weights * features, axis=1), inputs.dtype)
        pooled = ops.einsum("bsh,bsf->bhf", weights, features)
        return ops.cast(ops.reshape(pooled, (-1, self.heads * inputs.shape[-1])), inputs.dtype)

    def flops(self, steps: int, features: int) -> int:
        scorer = 2 * features * self.units + 2 * self.units * self.heads
        # Per step and head: the scorer, then exp, sum and divide of the softmax, then the weighted sum.
        return steps * (scorer + self.heads * (3 + 2 * features))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.heads * input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {"units": self.units, "heads": self.heads, "null_slot": self.null_slot, "temperature": self.temperature}
        )
        return config
