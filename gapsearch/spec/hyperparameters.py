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

#: Training steps per backend call with ``steps_per_execution: auto`` (TensorFlow and JAX): the same
#: batches and updates as one step per call, with a fraction of the Python dispatch per step
#: (``python -m tests.benchmarks.trial_overhead`` compares it with one step per call).
AUTO_STEPS_PER_EXECUTION = 8

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
    steps_per_execution: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        "auto",
        description="Training steps run per backend call (Keras compile). 'auto': "
        f"{AUTO_STEPS_PER_EXECUTION} under TensorFlow and JAX, where it saves the per-step dispatch, and 1 under "
        "PyTorch, whose Keras trainer takes no other value.",
    )
    mixed_precision: bool = Field(False, description="Compute in float16 with float32 weights; for GPUs.")
    jit_compile: bool | Literal["auto"] = Field(
        "auto", description="Compile the training step with XLA (torch.compile under torch); 'auto' is Keras' choice."
    )
    mask_padding: bool = Field(
        True, description="Hide padded steps from the encoder and the pooling; false only for ablations."
    )


HYPERPARAMETER_NAMES: tuple[str, ...] = tuple(Hyperparameters.model_fields)

#: Hyperparameters whose numbers are integers (``sequence_length`` and ``steps_per_execution`` may also be ``'auto'``).
INTEGER_NAMES: frozenset[str] = frozenset(
    name
    for name, f in Hyperparameters.model_fields.items()
    if f.annotation is int or name in ("sequence_length", "steps_per_execution")
)


#: Hyperparameters that a ``{low, high}`` range may search.
NUMERIC_NAMES: frozenset[str] = INTEGER_NAMES | {
    name for name, f in Hyperparameters.model_fields.items() if f.annotation is float
}


def steps_per_execution(value: int | str, backend: str) -> int:
    """The steps per backend call ``value`` means on ``backend`` (``'auto'`` resolved)."""
    if value != "auto":
        return int(value)
    return 1 if backend == "torch" else AUTO_STEPS_PER_EXECUTION
