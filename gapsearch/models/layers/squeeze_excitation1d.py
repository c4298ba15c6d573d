"""Squeeze-and-Excitation over the channels of a masked sequence."""

from __future__ import annotations

import keras
from keras import ops

from gapsearch.models.layers._base import masked_mean, real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class SqueezeExcitation1D(keras.layers.Layer):
    """Scales each channel by a gate learned from the whole text (Hu et al., 2018).

    The squeeze is the masked average of each channel over the real steps; the excitation is
    ``Dense(channels // ratio, relu)`` then ``Dense(channels, sigmoid)``; every step's channels are
    multiplied by the gate. Padded steps come out as zero, so what follows needs no new masking.

    Args:
        ratio: Channels per hidden unit of the excitation (at least one hidden unit).
        **kwargs: Passed to ``keras.layers.Layer``.

    Call arguments:
        inputs: Features, shape ``(batch, steps, channels)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``inputs`` with each channel scaled by its gate, padded steps zero. No mask is attached to the
        output (as for ``MaskPaddedSteps``): pass the mask on explicitly.
    """

    def __init__(self, ratio: int = 4, **kwargs):
        super().__init__(**kwargs)
        if ratio < 1:
            raise ValueError(f"SqueezeExcitation1D needs ratio >= 1, but got ratio={ratio!r}.")
        self.ratio = int(ratio)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_masking = True
        self.hidden: keras.layers.Dense | None = None  # built with the input's channels
        self.gate: keras.layers.Dense | None = None

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.hidden = keras.layers.Dense(
            max(1, channels // self.ratio), activation="relu", dtype=self.dtype_policy, name="hidden"
        )
        gate = keras.layers.Dense(channels, activation="sigmoid", dtype=self.dtype_policy, name="gate")
        self.gate = gate
        self.hidden.build((input_shape[0], channels))
        gate.build((input_shape[0], self.hidden.units))

    def call(self, inputs, mask=None):
        assert self.hidden is not None and self.gate is not None, "call() before build()"
        real = real_steps(inputs, mask)
        gates = self.gate(self.hidden(masked_mean(inputs, real)))
        scaled = inputs * ops.expand_dims(gates, axis=1)
        return ops.where(real, scaled, ops.zeros_like(scaled))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config["ratio"] = self.ratio
        return config
