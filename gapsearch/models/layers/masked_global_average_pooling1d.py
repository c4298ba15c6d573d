"""Global average pooling over the real time steps."""

from __future__ import annotations

import keras
from keras import ops

from gapsearch.models.layers._base import MaskedGlobalPooling1D, real_steps


@keras.saving.register_keras_serializable(package="gapsearch")
class MaskedGlobalAveragePooling1D(MaskedGlobalPooling1D):
    """Mean of each feature over the real (unpadded) time steps.

    Call arguments:
        inputs: Features, shape ``(batch, steps, features)``.
        mask: Boolean ``(batch, steps)``, True for real steps. None means every step is real.

    Returns:
        ``(batch, features)``; zeros for a row that is all padding.
    """

    def call(self, inputs, mask=None):
        real = real_steps(inputs, mask)
        # where, not a multiplication: a non-finite value at a padded step must not become NaN.
        total = ops.sum(ops.where(real, inputs, ops.zeros_like(inputs)), axis=1)
        count = ops.sum(ops.cast(real, inputs.dtype), axis=1)
        # A row with no real step has total 0 and count 0; dividing by at least 1 gives 0, not NaN.
        return total / ops.maximum(count, 1)
