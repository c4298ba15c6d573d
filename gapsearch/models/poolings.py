"""The pooling table: each value of ``pooling:`` in a study file and the layers that pool for it.

A pooling is its layer's file (a :class:`~gapsearch.models.layers.MaskedPooling1D`, which carries its
construction from the hyperparameters, its FLOPs and how it is explained) plus one line here;
``tests/models/test_extension_tables.py`` fails when a value of the ``Pooling`` Literal has no line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras

from gapsearch.models.layers import (
    AttentionPooling1D,
    GeneralizedMeanPooling1D,
    MaskedFlatten,
    MaskedGlobalAveragePooling1D,
    MaskedGlobalMaxPooling1D,
    MaskedPooling1D,
    MixedPooling1D,
)

if TYPE_CHECKING:
    from gapsearch.spec.hyperparameters import Hyperparameters

#: Each ``pooling:`` value and its layers: one, or several over the same input whose outputs are concatenated.
POOLING_LAYERS: dict[str, tuple[type[MaskedPooling1D], ...]] = {
    "average": (MaskedGlobalAveragePooling1D,),
    "max": (MaskedGlobalMaxPooling1D,),
    "attention": (AttentionPooling1D,),
    "average_max": (MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D),
    "gem": (GeneralizedMeanPooling1D,),
    "mixed": (MixedPooling1D,),
    "flatten": (MaskedFlatten,),
}


def pool(x, mask, hp: Hyperparameters, suffix: str = ""):
    """The pooling ``hp.pooling`` names over the real steps: ``(batch, steps, features)`` to ``(batch, width)``.

    Several layers (``average_max``) are concatenated, in the table's order, as ``{pooling}_pooling``.
    """
    layers = POOLING_LAYERS[hp.pooling]  # Hyperparameters allows no other value; the test keeps the table complete
    pooled = [layer.from_hyperparameters(hp, name=f"{layer.layer_name}{suffix}")(x, mask=mask) for layer in layers]
    if len(pooled) == 1:
        return pooled[0]
    return keras.layers.Concatenate(name=f"{hp.pooling}_pooling{suffix}")(pooled)
