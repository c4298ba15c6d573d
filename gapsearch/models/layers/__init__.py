"""Custom Keras layers that honour the padding mask of variable-length texts."""

from gapsearch.models.layers.attention_pooling1d import AttentionPooling1D
from gapsearch.models.layers.mask_padded_steps import MaskPaddedSteps
from gapsearch.models.layers.masked_global_average_pooling1d import MaskedGlobalAveragePooling1D
from gapsearch.models.layers.masked_global_max_pooling1d import MaskedGlobalMaxPooling1D
from gapsearch.models.layers.padding_mask import PaddingMask

__all__ = [
    "AttentionPooling1D",
    "MaskPaddedSteps",
    "MaskedGlobalAveragePooling1D",
    "MaskedGlobalMaxPooling1D",
    "PaddingMask",
]
