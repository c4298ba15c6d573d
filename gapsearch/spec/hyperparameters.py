"""The model and training hyperparameters: the names a study may fix or search.

This one class is the single source of truth for their names, types, defaults and
allowed values. ``model:`` in a study file sets some of them; ``search_space:``
searches others; the model builder takes a complete, validated instance.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

Pooling = Literal["average", "max", "attention", "average_max", "gem", "mixed", "flatten"]
Encoder = Literal["conv1d", "lstm", "gru", "none"]
Calibration = Literal["none", "se"]
Optimizer = Literal["adam", "adamw", "adadelta", "sgd", "rmsprop"]
Truncation = Literal["pre", "post"]
KernelSizes = Annotated[tuple[Annotated[int, Field(ge=1)], ...], Field(min_length=1, max_length=8, strict=False)]

#: Training steps per backend call with ``steps_per_execution: auto`` (TensorFlow and JAX): the same
#: batches and updates as one step per call, with a fraction of the Python dispatch per step
#: (``python -m tests.benchmarks.trial_overhead`` compares it with one step per call).
AUTO_STEPS_PER_EXECUTION = 8
#: Length buckets with ``length_buckets: auto`` wherever bucketing leaves every text's output unchanged
#: (the padding mask on, and a pooling whose weights are not per position): about a quarter less time
#: per MR trial (``python -m tests.benchmarks.trial_overhead``).
AUTO_LENGTH_BUCKETS = 4
#: The learning rate of each optimizer with ``learning_rate: auto``.
AUTO_LEARNING_RATES: dict[str, float] = {"adam": 1e-3, "adamw": 1e-3, "adadelta": 1.0, "sgd": 1e-2, "rmsprop": 1e-3}

#: The values of each Literal above, in its order (written once: the Literal is the source).
POOLINGS: tuple[str, ...] = get_args(Pooling)
ENCODERS: tuple[str, ...] = get_args(Encoder)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
#: Hyperparameters whose value is a list (searched as a choice of lists).
LIST_NAMES: frozenset[str] = frozenset({"kernel_sizes"})
#: Hyperparameters that only ``model:`` may set: their value is a mapping, not a searchable choice.
FIXED_ONLY_NAMES: frozenset[str] = frozenset({"embedding"})


class PretrainedEmbedding(BaseModel):
    """Pre-trained word vectors that start the embedding (``model.embedding``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vectors: str = Field(
        description="A word2vec text, GloVe .txt or fastText .vec file (gzipped too), relative to the study file; "
        "embedding_dim is its dimension."
    )
    trainable: bool = Field(
        True, description="Fine-tune the vectors in training (Kim's non-static); false keeps them fixed (static)."
    )


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
    embedding_dim: int = Field(64, ge=1, description="Width of the token embedding (the vectors' own with embedding).")
    embedding: PretrainedEmbedding | None = Field(
        None, description="Pre-trained word vectors to start the embedding from; words without one start random."
    )
    encoder: Encoder = Field("conv1d", description="What runs between the embedding and the pooling.")
    filters: int = Field(128, ge=1, description="Convolution filters per conv1d layer (per width with kernel_sizes).")
    kernel_size: int = Field(3, ge=1, description="Convolution window width, in tokens.")
    kernel_sizes: KernelSizes | None = Field(
        None,
        description="Several window widths side by side (Kim's CNN: [3, 4, 5]): one conv1d branch per width, each "
        "pooled, the pooled vectors concatenated. In place of kernel_size.",
    )
    conv_layers: int = Field(1, ge=1, le=8, description="Stacked conv1d layers (per branch with kernel_sizes).")
    rnn_units: int = Field(64, ge=1, description="Units per direction of the bidirectional lstm/gru encoder.")
    calibration: Calibration = Field(
        "none", description="Channel calibration after the encoder: 'se' is Squeeze-and-Excitation (masked squeeze)."
    )
    se_ratio: int = Field(4, ge=1, description="Squeeze-and-Excitation's reduction: channels / se_ratio hidden units.")
    pooling: Pooling = Field(
        "average",
        description="Pooling over the real (unpadded) tokens: average, max, attention, average_max, gem (generalized "
        "mean), mixed (learned blend of average and max) or flatten (padding zeroed, then flattened).",
    )
    attention_units: int = Field(64, ge=1, description="Hidden width of the attention pooling's scorer.")
    attention_heads: int = Field(
        4,
        ge=1,
        le=16,
        description="Attention pooling heads, their outputs concatenated (default 4: the best masked variant "
        "of benchmark (d)).",
    )
    attention_null: bool = Field(
        False, description="A learned 'nothing' slot the attention may weigh instead of a real token."
    )
    attention_temperature: float = Field(
        1.0, gt=0.0, le=100.0, description="Attention scores are divided by this before the softmax."
    )
    gem_p: float = Field(3.0, ge=1.0, le=20.0, description="Starting exponent of the gem pooling (learned).")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout rate after the pooling.")
    dense_units: int = Field(0, ge=0, description="Hidden dense layer width; 0 for none.")
    # Training.
    optimizer: Optimizer = Field("adam", description="adam, adamw, adadelta (Kim's), sgd or rmsprop.")
    learning_rate: Annotated[float, Field(gt=0.0, le=10.0)] | Literal["auto"] = Field(
        "auto",
        description="The optimizer's learning rate. 'auto': "
        + ", ".join(f"{rate:g} for {name}" for name, rate in AUTO_LEARNING_RATES.items())
        + " (Keras' defaults, except Adadelta's, whose 1e-3 barely moves; 1.0 is Zeiler's and Kim's).",
    )
    max_norm: float | None = Field(
        None, gt=0.0, description="Largest L2 norm of each output unit's weight vector (Kim's 3); none: no limit."
    )
    batch_size: int = Field(32, ge=1, description="Examples per training step.")
    epochs: int = Field(10, ge=1, description="Most epochs to train; early stopping may end sooner.")
    patience: int = Field(
        1,
        ge=0,
        description="Epochs without improvement before early stopping; 0 turns it off. 1: the learning-curve "
        "replays' choice with the default pruner (most text CNNs peak within a few epochs, then overfit).",
    )
    # How training runs: speed only, the same model and loss (mask_padding aside).
    length_buckets: Annotated[int, Field(ge=0, le=16)] | Literal["auto"] = Field(
        "auto",
        description="Batches of texts of similar length, padded only to their bucket's length (at most this many "
        "lengths); 0 pads every text to sequence_length. The mask hides padding either way. 'auto': "
        f"{AUTO_LENGTH_BUCKETS} where that leaves every text's output unchanged (mask_padding on, a pooling other "
        "than flatten), else 0.",
    )
    steps_per_execution: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        "auto",
        description="Training steps run per backend call (Keras compile). 'auto': "
        f"{AUTO_STEPS_PER_EXECUTION} under TensorFlow and JAX, where it saves the per-step dispatch, and 1 under "
        "PyTorch, whose Keras trainer takes no other value.",
    )
    mixed_precision: bool | Literal["float16", "bfloat16"] = Field(
        False,
        description="Compute in float16 (true or 'float16', with loss scaling) or bfloat16 ('bfloat16'), with "
        "float32 weights and a float32 output; for GPUs.",
    )
    jit_compile: bool | Literal["auto"] = Field(
        "auto", description="Compile the training step with XLA (torch.compile under torch); 'auto' is Keras' choice."
    )
    mask_padding: bool = Field(
        True, description="Hide padded steps from the encoder and the pooling; false only for ablations."
    )


HYPERPARAMETER_NAMES: tuple[str, ...] = tuple(Hyperparameters.model_fields)


def _admits(annotation: Any, kind: type) -> bool:
    """Whether a field's annotation takes values of ``kind`` (alone, in a union, or constrained by Annotated)."""
    if annotation is kind:
        return True
    if get_origin(annotation) is Annotated:
        return _admits(get_args(annotation)[0], kind)
    return get_origin(annotation) in (Union, UnionType) and any(_admits(arg, kind) for arg in get_args(annotation))


#: Hyperparameters whose numbers are integers (some may also be ``'auto'``), read from their annotations.
INTEGER_NAMES: frozenset[str] = frozenset(
    name for name, f in Hyperparameters.model_fields.items() if _admits(f.annotation, int)
)


#: Hyperparameters that a ``{low, high}`` range may search: those whose annotation admits a number.
NUMERIC_NAMES: frozenset[str] = INTEGER_NAMES | {
    name for name, f in Hyperparameters.model_fields.items() if _admits(f.annotation, float)
}


def length_buckets(hp: Hyperparameters) -> int:
    """The length buckets ``hp`` trains with (``'auto'`` resolved): none where bucketing would change an
    output, that is without the padding mask (padding then counts) or with ``flatten`` (per-position weights)."""
    if hp.length_buckets != "auto":
        return hp.length_buckets
    return AUTO_LENGTH_BUCKETS if hp.mask_padding and hp.pooling != "flatten" else 0


def learning_rate(hp: Hyperparameters) -> float:
    """The learning rate ``hp`` trains with (``'auto'`` resolved by its optimizer)."""
    return AUTO_LEARNING_RATES[hp.optimizer] if hp.learning_rate == "auto" else hp.learning_rate


def steps_per_execution(value: int | str, backend: str) -> int:
    """The steps per backend call ``value`` means on ``backend`` (``'auto'`` resolved)."""
    if value != "auto":
        return int(value)
    return 1 if backend == "torch" else AUTO_STEPS_PER_EXECUTION
