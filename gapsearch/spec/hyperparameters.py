"""The model and training hyperparameters: the names a study may fix or search.

This one class is the single source of truth for their names, types, defaults and
allowed values. ``model:`` in a study file sets some of them; ``search_space:``
searches others; the model builder takes a complete, validated instance.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Pooling = Literal["average", "max", "attention", "average_max"]
Encoder = Literal["conv1d", "lstm", "gru", "none"]
Truncation = Literal["pre", "post"]

POOLINGS: tuple[str, ...] = ("average", "max", "attention", "average_max")
ENCODERS: tuple[str, ...] = ("conv1d", "lstm", "gru", "none")


class Hyperparameters(BaseModel):
    """Every hyperparameter of the model and its training, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    # Text to ids.
    max_tokens: int = Field(20000, ge=3, description="Vocabulary size, padding and out-of-vocabulary ids included.")
    sequence_length: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        200,
        description="Tokens kept per text; shorter texts are padded. 'auto': a percentile of the training "
        "texts' lengths (data.sequence_length_percentile, 95 by default).",
    )
    # Architecture.
    embedding_dim: int = Field(64, ge=1, description="Width of the token embedding.")
    encoder: Encoder = Field("conv1d", description="What runs between the embedding and the pooling.")
    filters: int = Field(128, ge=1, description="Convolution filters per conv1d layer.")
    kernel_size: int = Field(3, ge=1, description="Convolution window width, in tokens.")
    conv_layers: int = Field(1, ge=1, le=8, description="Stacked conv1d layers.")
    rnn_units: int = Field(64, ge=1, description="Units per direction of the bidirectional lstm/gru encoder.")
    pooling: Pooling = Field("average", description="Global pooling over the real (unpadded) tokens.")
    attention_units: int = Field(64, ge=1, description="Hidden width of the attention pooling's scorer.")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout rate after the pooling.")
    dense_units: int = Field(0, ge=0, description="Hidden dense layer width; 0 for none.")
    # Training.
    learning_rate: float = Field(1e-3, gt=0.0, le=10.0, description="Adam learning rate.")
    batch_size: int = Field(32, ge=1, description="Examples per training step.")
    epochs: int = Field(10, ge=1, description="Most epochs to train; early stopping may end sooner.")
    patience: int = Field(3, ge=0, description="Epochs without improvement before early stopping; 0 turns it off.")
    # How training runs: speed only, the same model and loss (mask_padding aside).
    length_buckets: int = Field(
        0,
        ge=0,
        le=16,
        description="Batches of texts of similar length, padded only to their bucket's length (at most this many "
        "lengths); 0 pads every text to sequence_length. The mask hides padding either way.",
    )
    steps_per_execution: int = Field(1, ge=1, description="Training steps run per backend call (Keras compile).")
    mixed_precision: bool = Field(False, description="Compute in float16 with float32 weights; for GPUs.")
    jit_compile: bool | Literal["auto"] = Field(
        "auto", description="Compile the training step with XLA (torch.compile under torch); 'auto' is Keras' choice."
    )
    mask_padding: bool = Field(
        True, description="Hide padded steps from the encoder and the pooling; false only for ablations."
    )


HYPERPARAMETER_NAMES: tuple[str, ...] = tuple(Hyperparameters.model_fields)

#: Hyperparameters whose numbers are integers (``sequence_length`` may also be ``'auto'``).
INTEGER_NAMES: frozenset[str] = frozenset(
    name for name, f in Hyperparameters.model_fields.items() if f.annotation is int or name == "sequence_length"
)
#: Hyperparameters that a ``{low, high}`` range may search.
NUMERIC_NAMES: frozenset[str] = INTEGER_NAMES | {
    name for name, f in Hyperparameters.model_fields.items() if f.annotation is float
}
