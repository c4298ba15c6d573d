"""Build a compiled Keras text classifier from a complete set of hyperparameters.

The padding mask is computed once from the token ids and passed explicitly to every layer that
must ignore padding, so no result depends on how much padding follows a text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence

import keras

from gapsearch.errors import DataError
from gapsearch.models.layers import (
    AttentionPooling1D,
    MaskedGlobalAveragePooling1D,
    MaskedGlobalMaxPooling1D,
    MaskPaddedSteps,
    PaddingMask,
)
from gapsearch.models.metrics import MacroF1, SparseMacroAUC
from gapsearch.spec.hyperparameters import Hyperparameters, steps_per_execution


def build_model(
    hp: Hyperparameters,
    *,
    vocabulary_size: int,
    n_classes: int = 0,
    task: str | None = None,
    metrics: Collection[str] | None = None,
    extra_metrics: Sequence[keras.metrics.Metric] = (),
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

    Returns:
        A compiled model taking int32 token ids of shape ``(batch, hp.sequence_length)``, or
        ``(batch, any length)`` with ``hp.length_buckets`` > 0, where each batch is padded only to
        its bucket's length. ``hp.mixed_precision`` computes in float16 (the output stays float32);
        ``hp.mask_padding: false`` lets padding reach the encoder and the pooling (for ablations).

    Raises:
        DataError: ``vocabulary_size < 2`` or ``n_classes < 2``.
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

    with _dtype_policy("mixed_float16" if hp.mixed_precision else "float32"):
        steps = None if hp.length_buckets > 0 else hp.sequence_length
        token_ids = keras.Input(shape=(steps,), dtype="int32", name="token_ids")
        # Without the mask (an ablation), layers given mask=None treat every step as real.
        mask = PaddingMask(name="padding_mask")(token_ids) if hp.mask_padding else None
        x = keras.layers.Embedding(vocabulary_size, hp.embedding_dim, name="embedding")(token_ids)
        # Padding's own embedding must not reach a convolution's window.
        x = MaskPaddedSteps(name="embedding_masked")(x, mask=mask)
        x = _encode(x, mask, hp)
        x = _pool(x, mask, hp)
        if hp.dropout > 0:
            x = keras.layers.Dropout(hp.dropout, name="dropout")(x)
        if hp.dense_units > 0:
            x = keras.layers.Dense(hp.dense_units, activation="relu", name="dense")(x)
        model = keras.Model(token_ids, _output(x, n_classes, task), name="text_classifier")
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


def _encode(x, mask, hp: Hyperparameters):
    """The encoder between the embedding and the pooling."""
    if hp.encoder == "conv1d":
        for index in range(1, hp.conv_layers + 1):
            x = keras.layers.Conv1D(
                hp.filters, hp.kernel_size, padding="same", activation="relu", name=f"conv1d_{index}"
            )(x)
            # relu(bias) at the padded steps would reach the next convolution's window.
            x = MaskPaddedSteps(name=f"conv1d_{index}_masked")(x, mask=mask)
        return x
    if hp.encoder in ("lstm", "gru"):
        recurrent = keras.layers.LSTM if hp.encoder == "lstm" else keras.layers.GRU
        cell = recurrent(hp.rnn_units, return_sequences=True, name=hp.encoder)
        return keras.layers.Bidirectional(cell, name=f"bidirectional_{hp.encoder}")(x, mask=mask)
    if hp.encoder == "none":
        return x
    raise AssertionError(f"unknown encoder {hp.encoder!r}")  # Hyperparameters allows no other value


def _pool(x, mask, hp: Hyperparameters):
    """The global pooling over the real steps: ``(batch, steps, features)`` to ``(batch, features)``."""
    if hp.pooling == "average":
        return MaskedGlobalAveragePooling1D(name="average_pooling")(x, mask=mask)
    if hp.pooling == "max":
        return MaskedGlobalMaxPooling1D(name="max_pooling")(x, mask=mask)
    if hp.pooling == "attention":
        return AttentionPooling1D(hp.attention_units, name="attention_pooling")(x, mask=mask)
    if hp.pooling == "average_max":
        average = MaskedGlobalAveragePooling1D(name="average_pooling")(x, mask=mask)
        maximum = MaskedGlobalMaxPooling1D(name="max_pooling")(x, mask=mask)
        return keras.layers.Concatenate(name="average_max_pooling")([average, maximum])
    raise AssertionError(f"unknown pooling {hp.pooling!r}")  # Hyperparameters allows no other value


def _output(x, n_classes: int, task: str):
    # float32 whatever the dtype policy, so the probabilities and the loss keep full precision.
    if task == "regression":
        return keras.layers.Dense(1, dtype="float32", name="output")(x)
    if task == "binary":
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="output")(x)
    if task == "multilabel":
        return keras.layers.Dense(n_classes, activation="sigmoid", dtype="float32", name="output")(x)
    return keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="output")(x)


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
        optimizer=keras.optimizers.Adam(hp.learning_rate),
        loss=loss,
        metrics=[*metrics, *extra],
        steps_per_execution=steps_per_execution(hp.steps_per_execution, keras.backend.backend()),
        jit_compile=hp.jit_compile,
    )
