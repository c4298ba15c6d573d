"""What the masked layers over ``(batch, steps, features)`` share: the pooling bases and mask helpers."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar

import keras
import ml_dtypes
from keras import ops

if TYPE_CHECKING:
    from gapsearch.spec.hyperparameters import Hyperparameters


class MaskedPooling1D(keras.layers.Layer, metaclass=abc.ABCMeta):
    """Base of the layers a study file's ``pooling:`` names: ``(batch, steps, features)`` to one row per text.

    Each pooling carries what the rest of gapsearch needs of it, so that a new one is its file plus one
    line in :data:`gapsearch.models.poolings.POOLING_LAYERS`: how the builder makes it from the hyperparameters
    (:meth:`from_hyperparameters`), its FLOPs (:meth:`flops`, abstract: a pooling cannot count 0 by
    omission), its name in a built model (``layer_name``) and whether :mod:`gapsearch.explain` decomposes
    a model pooled by it exactly (``explained_exactly``; otherwise occlusion explains it).
    Subclasses implement ``call(inputs, mask=None)``. The output has no time axis, so no mask.
    """

    #: The layer's name in a built model (a ``kernel_sizes`` branch appends its suffix).
    layer_name: ClassVar[str]
    #: True: gapsearch.explain's exact decomposition reads this pooling; False: occlusion explains the model.
    explained_exactly: ClassVar[bool]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.supports_masking = True

    @classmethod
    def from_hyperparameters(cls, hp: Hyperparameters, *, name: str) -> MaskedPooling1D:
        """The layer ``hp`` asks for; poolings with settings of their own override it."""
        del hp  # no settings of its own
        return cls(name=name)

    @abc.abstractmethod
    def flops(self, steps: int, features: int) -> int:
        """Estimated floating-point operations for one example of ``steps`` time steps of ``features`` values.

        Counted as :mod:`gapsearch.models.costs` counts every layer: a multiply-add is 2, and elementwise
        work (masking, activations) is left out unless it is what the pooling does.
        """

    def compute_mask(self, inputs, mask=None):
        return None


class MaskedGlobalPooling1D(MaskedPooling1D):
    """Base of the global poolings that read only the real (unpadded) time steps: one value per feature."""

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


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
