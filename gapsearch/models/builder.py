"""Build a compiled Keras text classifier from a complete set of hyperparameters.

The padding mask is computed once from the token ids and passed explicitly to every layer that
must ignore padding, so no result depends on how much padding follows a text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING

import keras
import numpy as np

from gapsearch.errors import DataError
from gapsearch.models.layers import MaskPaddedSteps, PaddingMask, SqueezeExcitation1D
from gapsearch.models.metrics import MacroF1, SparseMacroAUC
from gapsearch.models.poolings import pool
from gapsearch.spec.hyperparameters import Hyperparameters, learning_rate, length_buckets, steps_per_execution

if TYPE_CHECKING:
    from gapsearch.data.vectors import LookedUpVectors


def build_model(
    hp: Hyperparameters,
    *,
    vocabulary_size: int,
    n_classes: int = 0,
    task: str | None = None,
    metrics: Collection[str] | None = None,
    extra_metrics: Sequence[keras.metrics.Metric] = (),
    vectors: LookedUpVectors | None = None,
) -> keras.Model:
    """Build and compile the classifier (or regressor) ``hp`` describes, ready to ``fit``.

    Args:
        hp: The complete, validated hyperparameters (``sequence_length`` resolved to a number).
        vocabulary_size: Token ids run from 0 (padding) to ``vocabulary_size - 1``.
        n_classes: Number of classes (labels, for multilabel); ignored for regression.
        task: ``binary`` (labels 0/1, one sigmoid unit), ``multiclass`` (labels ``0 .. n_classes - 1``,
            a softmax), ``multilabel`` (multi-hot targets, one sigmoid per label) or ``regression``
            (one linear unit, mean squared error). Default: binary for two classes, else multiclass.
        metrics: The metrics to compile, by name without ``val_`` (``accuracy``, ``auc``, ``macro_f1``;
            ``mae``, ``rmse`` for regression); the loss is always computed. Default: all of the task's.
        extra_metrics: Metric objects compiled besides those, which the caller reads itself (a
            trial's :class:`~gapsearch.models.metrics.ConfusionCounts`).
        vectors: With ``hp.embedding``, the vocabulary's pre-trained vectors (``vocabulary_size`` rows
            of ``hp.embedding_dim``): the embedding starts from them scaled to unit length, and ids without
            one as uniform noise of the same variance.

    Returns:
        A compiled model taking int32 token ids of shape ``(batch, hp.sequence_length)``, or
        ``(batch, any length)`` where ``hp.length_buckets`` resolves above 0: each batch is padded only to
        its bucket's length. ``hp.mixed_precision`` computes in float16 (``true``) or bfloat16 (the output
        stays float32);
        ``hp.mask_padding: false`` lets padding reach the encoder and the pooling (for ablations).

    Raises:
        DataError: ``vocabulary_size < 2`` or ``n_classes < 2``.
        ValueError: ``vectors`` missing with ``hp.embedding``, or not ``(vocabulary_size, embedding_dim)``.
    """
    if vocabulary_size < 2:
        raise DataError(
            f"The vocabulary must hold padding and at least one token (vocabulary_size >= 2), "
            f"but got vocabulary_size={vocabulary_size}."
        )
    if task is None:
        task = "binary" if n_classes == 2 else "multiclass"
    if task != "regression" and n_classes < 2:
        raise DataError(f"A classifier needs at least 2 classes, but the labels hold n_classes={n_classes}.")

    precision = "float16" if hp.mixed_precision is True else hp.mixed_precision or None
    with _dtype_policy(f"mixed_{precision}" if precision else "float32"):
        steps = None if length_buckets(hp) > 0 else hp.sequence_length
        token_ids = keras.Input(shape=(steps,), dtype="int32", name="token_ids")
        # Without the mask (an ablation), layers given mask=None treat every step as real.
        mask = PaddingMask(name="padding_mask")(token_ids) if hp.mask_padding else None
        x = _embedding(vocabulary_size, hp, vectors)(token_ids)
        # Padding's own embedding must not reach a convolution's window.
        x = MaskPaddedSteps(name="embedding_masked")(x, mask=mask)
        if hp.encoder == "conv1d" and hp.kernel_sizes is not None:
            # One branch per width over the same embeddings, each calibrated and pooled, then concatenated.
            pooled = [
                pool(_calibrate(_convolve(x, mask, hp, width, f"_w{w}"), mask, hp, f"_w{w}"), mask, hp, f"_w{w}")
                for w, width in enumerate(hp.kernel_sizes, start=1)
            ]
            x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="branches")(pooled)
        else:
            x = pool(_calibrate(_encode(x, mask, hp), mask, hp), mask, hp)
        if hp.dropout > 0:
            x = keras.layers.Dropout(hp.dropout, name="dropout")(x)
        if hp.dense_units > 0:
            x = keras.layers.Dense(hp.dense_units, activation="relu", name="dense")(x)
        model = keras.Model(token_ids, _output(x, n_classes, task, hp.max_norm), name="text_classifier")
        _compile(model, hp, n_classes, task, metrics, extra_metrics)
    return model


@contextlib.contextmanager
def _dtype_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy set to ``name`` while a model is built and compiled, then restored.

    Layers take the policy when they are created, and ``compile`` wraps the optimizer for loss
    scaling under ``mixed_float16``; restoring it keeps one trial's choice out of the next.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _embedding(vocabulary_size: int, hp: Hyperparameters, vectors: LookedUpVectors | None) -> keras.layers.Layer:
    """The token embedding: learned from random, or started from pre-trained vectors."""
    if vectors is None:
        return keras.layers.Embedding(vocabulary_size, hp.embedding_dim, name="embedding")
    if vectors.matrix.shape[0] != vocabulary_size:
        raise DataError(
            f"The vectors hold {vectors.matrix.shape[0]} rows but the vocabulary has {vocabulary_size} ids."
        )
    # At the file's own scale an optimizer's steps barely move the vectors (see LookedUpVectors.unit_length).
    vectors = vectors.unit_length()
    # Seeded from NumPy's global generator, which keras.utils.set_random_seed (a run's seed) sets.
    rng = np.random.default_rng(np.random.randint(2**31 - 1))
    # Words without a vector start as uniform noise of the found vectors' variance (Kim, 2014).
    bound = vectors.scale * np.sqrt(3.0)
    start = np.where(
        vectors.found[:, None],
        vectors.matrix,
        rng.uniform(-bound, bound, size=vectors.matrix.shape).astype(np.float32),
    )
    start[0] = 0.0
    trainable = hp.embedding is None or hp.embedding.trainable
    return keras.layers.Embedding(
        vocabulary_size,
        start.shape[1],
        embeddings_initializer=keras.initializers.Constant(start),
        trainable=trainable,
        name="embedding",
    )


def _convolve(x, mask, hp: Hyperparameters, width: int, suffix: str = ""):
    """``hp.conv_layers`` stacked Conv1D layers of one window width, padded steps zeroed after each."""
    for index in range(1, hp.conv_layers + 1):
        x = keras.layers.Conv1D(hp.filters, width, padding="same", activation="relu", name=f"conv1d{suffix}_{index}")(x)
        # relu(bias) at the padded steps would reach the next convolution's window.
        x = MaskPaddedSteps(name=f"conv1d{suffix}_{index}_masked")(x, mask=mask)
    return x


def _calibrate(x, mask, hp: Hyperparameters, suffix: str = ""):
    """Channel calibration between the encoder and the pooling: none, or Squeeze-and-Excitation."""
    if hp.calibration == "se":
        return SqueezeExcitation1D(hp.se_ratio, name=f"squeeze_excitation{suffix}")(x, mask=mask)
    return x


def _encode(x, mask, hp: Hyperparameters):
    """The encoder between the embedding and the pooling."""
    if hp.encoder == "conv1d":
        return _convolve(x, mask, hp, hp.kernel_size)
    if hp.encoder in ("lstm", "gru"):
        recurrent = keras.layers.LSTM if hp.encoder == "lstm" else keras.layers.GRU
        cell = recurrent(hp.rnn_units, return_sequences=True, name=hp.encoder)
        return keras.layers.Bidirectional(cell, name=f"bidirectional_{hp.encoder}")(x, mask=mask)
    if hp.encoder == "none":
        return x
    raise AssertionError(f"unknown encoder {hp.encoder!r}")  # Hyperparameters allows no other value


def _output(x, n_classes: int, task: str, max_norm: float | None = None):
    # float32 whatever the dtype policy, so the probabilities and the loss keep full precision.
    # max_norm bounds each output unit's weight vector (the kernel's columns: axis 0), as Kim (2014).
    constraint = None if max_norm is None else keras.constraints.MaxNorm(max_norm, axis=0)
    units, activation = {
        "regression": (1, None),
        "binary": (1, "sigmoid"),
        "multilabel": (n_classes, "sigmoid"),
    }.get(task, (n_classes, "softmax"))
    return keras.layers.Dense(
        units, activation=activation, kernel_constraint=constraint, dtype="float32", name="output"
    )(x)


def _optimizer(hp: Hyperparameters) -> keras.optimizers.Optimizer:
    """The optimizer ``hp.optimizer`` names, at its learning rate (``'auto'`` resolved)."""
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "adadelta": keras.optimizers.Adadelta,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return optimizers[hp.optimizer](learning_rate(hp))


def _compile(
    model: keras.Model,
    hp: Hyperparameters,
    n_classes: int,
    task: str,
    wanted: Collection[str] | None,
    extra: Sequence[keras.metrics.Metric],
) -> None:
    """Loss and metrics per task; the metric names are those of ``METRIC_DIRECTIONS`` without ``val_``."""
    if task == "regression":
        loss = "mean_squared_error"
        metrics = [keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.RootMeanSquaredError(name="rmse")]
    elif task == "binary":
        loss = "binary_crossentropy"
        metrics = [
            keras.metrics.BinaryAccuracy(name="accuracy"),
            keras.metrics.AUC(name="auc"),
            MacroF1(2, mode="binary"),
        ]
    elif task == "multilabel":
        loss = "binary_crossentropy"
        metrics = [
            keras.metrics.BinaryAccuracy(name="accuracy"),
            keras.metrics.AUC(name="auc", multi_label=True, num_labels=n_classes),
            MacroF1(n_classes, mode="multilabel"),
        ]
    else:
        loss = "sparse_categorical_crossentropy"
        metrics = [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            SparseMacroAUC(n_classes),
            MacroF1(n_classes, mode="sparse"),
        ]
    if wanted is not None:
        unknown = set(wanted) - {metric.name for metric in metrics}
        if unknown:  # the study file's checks keep these out; a caller's mistake otherwise
            raise ValueError(f"no metric {sorted(unknown)} for a {task} model")
        metrics = [metric for metric in metrics if metric.name in wanted]
    model.compile(
        optimizer=_optimizer(hp),
        loss=loss,
        metrics=[*metrics, *extra],
        steps_per_execution=steps_per_execution(hp.steps_per_execution, keras.backend.backend()),
        jit_compile=hp.jit_compile,
    )
