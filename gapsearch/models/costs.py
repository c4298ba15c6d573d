"""What a model costs, measured the same way in every trial: parameters, FLOPs, latency.

The numbers are objectives and constraints of a study like any training metric, so they must
mean the same in every trial and on every backend: only Keras' public API and NumPy here.

FLOPs are estimated per example from the layer shapes at the full ``sequence_length`` (padding is
computed too): a multiply-add counts 2, so a Conv1D layer costs ``2 * kernel_size * in * out * steps``,
a Dense layer ``2 * in * out`` per position it is applied at, a recurrent layer ``2 * (in + units) *
gates * units`` per step and direction. An embedding lookup costs nothing, global average and max
pooling one operation per element they read, and attention pooling its scorer plus the softmax and
the weighted sum. Elementwise work (activations, masking, dropout, biases) is left out.
"""

from __future__ import annotations

import math
import statistics
import time

import keras
import numpy as np

from gapsearch.models.layers import MaskedPooling1D, SqueezeExcitation1D
from gapsearch.trial_attrs import ModelCosts  # the record a trial stores its costs as

#: Untimed calls before latency is measured (the first traces and compiles the predict function).
LATENCY_WARMUP = 3
#: Timed calls; latency is their median, which a single slow call (a GC pause) cannot move.
LATENCY_REPEATS = 15


def measure_costs(model: keras.Model, batch: np.ndarray, *, latency: bool = True) -> ModelCosts:
    """Count ``model``'s parameters and FLOPs and, with ``latency``, time it classifying ``batch``.

    Counting is free; timing runs the model ``LATENCY_WARMUP + LATENCY_REPEATS`` times after tracing
    its predict function, so a trial times it only when its study names it.
    """
    return ModelCosts(
        params=int(model.count_params()),
        embedding_params=int(model.get_layer("embedding").count_params()),
        flops=flops_per_example(model, steps=batch.shape[1]),
        latency_ms=round(latency_ms(model, batch), 4) if latency else None,
        latency_batch_size=len(batch) if latency else None,
    )


def latency_ms(
    model: keras.Model, batch: np.ndarray, *, warmup: int = LATENCY_WARMUP, repeats: int = LATENCY_REPEATS
) -> float:
    """Median wall time, in milliseconds, of ``model.predict_on_batch(batch)`` after ``warmup`` untimed calls.

    ``predict_on_batch`` returns NumPy arrays, so the time includes waiting for an accelerator.
    """
    for _ in range(warmup):
        model.predict_on_batch(batch)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


def flops_per_example(model: keras.Model, steps: int | None = None) -> int:
    """Estimated floating-point operations to classify one example (see the module's notes).

    ``steps`` stands in for a time axis of unknown length (a model built for length-bucketed batches).
    """
    return int(sum(layer_flops(layer, steps) for layer in model.layers))


def layer_flops(layer: keras.layers.Layer, steps: int | None = None) -> int:
    """Estimated floating-point operations of one layer for one example."""
    if isinstance(layer, (keras.layers.Embedding, keras.layers.InputLayer)) or not _has_output(layer):
        return 0
    if isinstance(layer, keras.layers.Conv1D):
        kernel_size, channels_in, channels_out = layer.kernel.shape
        return 2 * kernel_size * channels_in * channels_out * _positions(_known(layer.output.shape, steps))
    if isinstance(layer, keras.layers.Dense):
        channels_in, channels_out = layer.kernel.shape
        return 2 * channels_in * channels_out * _positions(_known(layer.output.shape, steps))
    if isinstance(layer, keras.layers.Bidirectional):
        length = _first_input_shape(layer, steps)[1]
        return sum(_recurrent_flops(sublayer, length) for sublayer in (layer.forward_layer, layer.backward_layer))
    if isinstance(layer, keras.layers.RNN):
        return _recurrent_flops(layer, _first_input_shape(layer, steps)[1])
    if isinstance(layer, MaskedPooling1D):  # each pooling counts its own (an abstract method: none is left at 0)
        _, length, features = _first_input_shape(layer, steps)
        return layer.flops(length, features)
    if isinstance(layer, SqueezeExcitation1D):
        _, length, channels = _first_input_shape(layer, steps)
        assert layer.hidden is not None  # a built layer
        hidden = layer.hidden.units
        return 2 * length * channels + 4 * channels * hidden  # squeeze and scale, the two dense layers
    # Any other layer with weights: as if each weight took part in one multiply-add.
    return 2 * int(layer.count_params()) if layer.weights else 0


def _recurrent_flops(layer: keras.layers.Layer, steps: int) -> int:
    cell = layer.cell
    return 2 * steps * (math.prod(cell.kernel.shape) + math.prod(cell.recurrent_kernel.shape))


def _positions(shape: tuple[int | None, ...]) -> int:
    """How many times a per-feature layer is applied for one example: every axis but batch and features."""
    return math.prod(int(d or 1) for d in shape[1:-1])


def _first_input_shape(layer: keras.layers.Layer, steps: int | None) -> tuple[int, ...]:
    inputs = layer.input
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    return _known(tuple(first.shape), steps)


def _known(shape: tuple[int | None, ...], steps: int | None) -> tuple[int, ...]:
    """``shape`` with an unknown time axis (axis 1 of a sequence) replaced by ``steps``."""
    if len(shape) > 2 and shape[1] is None and steps is not None:
        return (shape[0], steps, *shape[2:])  # type: ignore[return-value, arg-type]
    return shape  # type: ignore[return-value]


def _has_output(layer: keras.layers.Layer) -> bool:
    try:
        layer.output  # noqa: B018 - a layer never called in the model (none here) has no shape to count
    except (AttributeError, ValueError):
        return False
    return True
