"""What the masked layers over ``(batch, steps, features)`` share: the pooling base and mask helpers."""

from __future__ import annotations

import keras
import ml_dtypes
from keras import ops


class MaskedGlobalPooling1D(keras.layers.Layer):
    """Base of the global poolings that read only the real (unpadded) time steps.

    Subclasses implement ``call(inputs, mask=None)``. The output has no time axis, so no mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None


def real_steps(inputs, mask):
    """The mask as a boolean ``(batch, steps, 1)`` tensor that broadcasts over the features.

    Args:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: ``(batch, steps)``, true for real steps, of any dtype; None means every step is real.
    """
    if mask is None:
        return ops.ones_like(inputs[:, :, :1], dtype="bool")
    return ops.expand_dims(ops.cast(mask, "bool"), axis=-1)


def lowest_finite(dtype) -> float:
    """The most negative finite value of a float dtype (bfloat16 included).

    Filling padded steps with it instead of ``-inf`` keeps ``inf - inf`` and ``0 * inf`` out of
    the forward and backward passes.
    """
    return float(ml_dtypes.finfo(keras.backend.standardize_dtype(dtype)).min)


def accumulation_dtype(dtype) -> str:
    """The dtype to sum over time steps in: float32 for the 16-bit floats of mixed precision, else ``dtype``.

    bfloat16 holds integers exactly only up to 256 and float16 up to 2048, and each addition of a long
    sum rounds to 8 (or 11) bits: a count of 400 real steps, or the sum of 400 features, would not be
    what it is. Sums are taken in float32 and their result cast back to the compute dtype.
    """
    name = keras.backend.standardize_dtype(dtype)
    return "float32" if name in ("float16", "bfloat16") else name


def masked_sum(values, real):
    """Sum over the real steps of ``(batch, steps, features)`` and the count of real steps, both taken in
    :func:`accumulation_dtype` of ``values``: ``(batch, features)`` and ``(batch, 1)``."""
    wide = accumulation_dtype(values.dtype)
    # where, not a multiplication: a non-finite value at a padded step must not become NaN.
    total = ops.sum(ops.cast(ops.where(real, values, ops.zeros_like(values)), wide), axis=1)
    count = ops.sum(ops.cast(real, wide), axis=1)
    return total, count


def masked_mean(inputs, real):
    """Mean over the real steps of ``(batch, steps, features)``; 0 for a row that is all padding.

    Summed and divided in float32 under mixed precision (:func:`accumulation_dtype`), then cast back.

    Args:
        inputs: Features, shape ``(batch, steps, features)``.
        real: Boolean ``(batch, steps, 1)``, as :func:`real_steps` gives.
    """
    total, count = masked_sum(inputs, real)
    # A row with no real step has total 0 and count 0; dividing by at least 1 gives 0, not NaN.
    return ops.cast(total / ops.maximum(count, 1), inputs.dtype)


def masked_max(inputs, real):
    """Maximum over the real steps of ``(batch, steps, features)``; 0 for a row that is all padding."""
    # The lowest finite value, not -inf, so no inf reaches the gradient.
    filled = ops.where(real, inputs, ops.full_like(inputs, lowest_finite(inputs.dtype)))
    highest = ops.max(filled, axis=1)
    # A row with no real step would pool to the fill value; make it 0 like the other poolings.
    return ops.where(ops.any(real, axis=1), highest, ops.zeros_like(highest))
