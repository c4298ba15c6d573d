"""Which worker runs on which GPU: slots planned before any framework is imported.

Each worker process sees exactly one GPU through ``CUDA_VISIBLE_DEVICES``, set in its
environment before Python starts, so TensorFlow never claims a GPU another worker uses.
Workers sharing a GPU get memory growth (and optionally a memory limit) instead of
TensorFlow's default of taking the whole GPU for the life of the process.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from gapsearch.errors import UserError

WORKER_ID_ENV = "GAPSEARCH_WORKER_ID"
WORKER_START_ENV = "GAPSEARCH_WORKER_START"  # how many times the pool started this slot's worker before
MEMORY_LIMIT_ENV = "GAPSEARCH_GPU_MEMORY_LIMIT"
NO_GPU = "-1"  # what CUDA_VISIBLE_DEVICES says for "no GPU at all"


@dataclass(frozen=True)
class WorkerSlot:
    """One worker process: its number on this machine, its GPU (None: CPU), and whether it shares the GPU."""

    index: int
    gpu: str | None
    shared: bool = False
    memory_limit: int | None = None

    def environment(self) -> dict[str, str]:
        """Variables that must be set before TensorFlow, PyTorch or JAX is imported."""
        env = {WORKER_ID_ENV: str(self.index)}
        if self.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.gpu
        if self.shared:
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"  # TensorFlow allocates as it goes, not the whole GPU
            env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"  # the same for JAX
            if self.memory_limit is not None:
                env[MEMORY_LIMIT_ENV] = str(self.memory_limit)
        return env


def visible_gpus() -> list[str]:
    """The GPUs this machine offers: ``CUDA_VISIBLE_DEVICES`` when set, else what ``nvidia-smi`` lists."""
    declared = os.environ.get("CUDA_VISIBLE_DEVICES")
    if declared is not None:
        ids = [part.strip() for part in declared.split(",") if part.strip()]
        return [] if not ids or ids[0] == NO_GPU else ids
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return []
    try:
        listed = subprocess.run(
            [nvidia_smi, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


def plan_workers(
    gpus: str | Sequence[int],
    trials_per_gpu: int,
    count: int | None,
    *,
    memory_limit: int | None = None,
    available: Sequence[str] | None = None,
) -> list[WorkerSlot]:
    """Worker slots for ``gpus`` ('all', 'none' or GPU numbers), ``trials_per_gpu`` and ``count`` workers.

    Without ``count`` there is one worker per GPU slot (GPUs x trials_per_gpu), or one on a machine
    without GPUs. Workers are spread over the GPUs in contiguous blocks, so 4 workers on GPUs 0,1
    run on 0, 0, 1, 1.

    Raises:
        UserError: more workers than GPU slots.
    """
    if gpus == "none":
        return [WorkerSlot(index, NO_GPU) for index in range(count or 1)]
    if gpus == "all":
        ids = list(visible_gpus() if available is None else available)
        if not ids:  # a machine without a GPU: CPU workers, the environment left as it is
            return [WorkerSlot(index, None) for index in range(count or 1)]
    else:
        ids = [str(gpu) for gpu in gpus]
    capacity = len(ids) * trials_per_gpu
    workers = count or capacity
    if workers > capacity:
        needed = math.ceil(workers / len(ids))
        raise UserError(
            f"{workers} workers do not fit on {len(ids)} GPU{'s' if len(ids) > 1 else ''} ({','.join(ids)}) with "
            f"trials_per_gpu {trials_per_gpu} (at most {capacity}); use --trials-per-gpu {needed}, fewer workers, "
            "or --gpus none"
        )
    assigned = [ids[index * len(ids) // workers] for index in range(workers)]
    return [
        WorkerSlot(index, gpu, shared=assigned.count(gpu) > 1, memory_limit=memory_limit)
        for index, gpu in enumerate(assigned)
    ]
