"""Custom Keras layers that honour the padding mask of variable-length texts."""

from gapsearch.models.layers._base import MaskedGlobalPooling1D, MaskedPooling1D
from gapsearch.models.layers.attention_pooling1d import AttentionPooling1D
from gapsearch.models.layers.generalized_mean_pooling1d import GeneralizedMeanPooling1D
from gapsearch.models.layers.mask_padded_steps import MaskPaddedSteps
from gapsearch.models.layers.masked_flatten import MaskedFlatten
from gapsearch.models.layers.masked_global_average_pooling1d import MaskedGlobalAveragePooling1D
from gapsearch.models.layers.masked_global_max_pooling1d import MaskedGlobalMaxPooling1D
from gapsearch.models.layers.mixed_pooling1d import MixedPooling1D
from gapsearch.models.layers.padding_mask import PaddingMask
from gapsearch.models.layers.squeeze_excitation1d import SqueezeExcitation1D

__all__ = [
    "AttentionPooling1D",
    "GeneralizedMeanPooling1D",
    "MaskPaddedSteps",
    "MaskedFlatten",
    "MaskedGlobalAveragePooling1D",
    "MaskedGlobalMaxPooling1D",
    "MaskedGlobalPooling1D",
    "MaskedPooling1D",
    "MixedPooling1D",
    "PaddingMask",
    "SqueezeExcitation1D",
]
