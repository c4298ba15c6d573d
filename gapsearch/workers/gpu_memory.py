"""A per-worker GPU memory limit for workers that share a GPU, applied before the backend touches the GPU.

Memory growth needs no code (``TF_FORCE_GPU_ALLOW_GROWTH`` and ``XLA_PYTHON_CLIENT_PREALLOCATE``
are set in the worker's environment). A hard limit needs the backend's own call, made once Keras
is imported and before any tensor exists.
"""

from __future__ import annotations

import os

from gapsearch.errors import UserError
from gapsearch.workers.devices import MEMORY_LIMIT_ENV


def apply_gpu_memory_limit() -> int | None:
    """Apply ``$GAPSEARCH_GPU_MEMORY_LIMIT`` (MiB) to the one visible GPU; returns the limit, if any."""
    text = os.environ.get(MEMORY_LIMIT_ENV)
    if not text:
        return None
    try:
        limit = int(text)
    except ValueError:
        raise UserError(f"{MEMORY_LIMIT_ENV}={text!r} is not a whole number of MiB") from None
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        _limit_tensorflow(limit)
    elif backend == "torch":
        _limit_torch(limit)
    return limit


def _limit_tensorflow(limit_mib: int) -> None:
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.set_logical_device_configuration(gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=limit_mib)])


def _limit_torch(limit_mib: int) -> None:
    import torch

    if torch.cuda.is_available():
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, limit_mib * 2**20 / total), 0)
