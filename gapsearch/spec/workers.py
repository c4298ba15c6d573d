"""The ``workers:`` section: how many worker processes, on which GPUs, and how crashes are survived."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from gapsearch.spec._base import Frozen

GpuList = list[Annotated[int, Field(ge=0)]]

#: The defaults of crash safety, here alone: the storage, the worker loop and the retry layer read them.
HEARTBEAT_INTERVAL = 10  # seconds between a running trial's heartbeats
GRACE_PERIOD = 30  # seconds without a heartbeat after which a trial's worker is taken for dead
OUTAGE_WINDOW = 60.0  # seconds a worker waits in total for a lost study database


def parse_gpus(value: Any) -> Any:
    """``"0,2,3"`` -> ``[0, 2, 3]``; ``all``, ``none`` and lists pass through (the type check follows)."""
    if isinstance(value, str) and value.strip().lower() not in ("all", "none"):
        parts = [part.strip() for part in value.split(",")]
        if not all(part.isdigit() for part in parts):
            raise ValueError(f"{value!r} is not 'all', 'none' or a comma-separated list of GPU numbers such as '0,2,3'")
        return [int(part) for part in parts]
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, list) and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise ValueError(f"{value!r} is not a list of GPU numbers (0, 1, ...); expected for example [0, 2, 3]")
    return value


class WorkersSpec(Frozen):
    """Parallel worker processes on one machine, and the crash safety every worker shares."""

    count: int | None = Field(
        None,
        ge=1,
        description="Worker processes on this machine; default: one per GPU slot (GPUs x trials_per_gpu), "
        "or 1 without a GPU.",
    )
    gpus: Union[Literal["all", "none"], GpuList] = Field(
        "all",
        description="GPUs to use, as nvidia-smi numbers them: 'all' (every visible GPU; none on a machine "
        "without one), 'none' (CPU only), or a list such as [0, 2, 3]. Each worker sees one GPU.",
    )
    trials_per_gpu: int = Field(1, ge=1, description="Workers sharing each GPU (with memory growth).")
    gpu_memory_limit: int | None = Field(
        None, ge=64, description="MiB of GPU memory each worker may use when workers share a GPU."
    )
    heartbeat_interval: int = Field(
        HEARTBEAT_INTERVAL, ge=1, description="Seconds between a running trial's heartbeats."
    )
    grace_period: int = Field(
        GRACE_PERIOD, ge=2, description="Seconds without a heartbeat after which a trial's worker is taken for dead."
    )
    max_retries: int = Field(
        3, ge=0, description="Times a trial whose worker died or was stopped is queued again with its parameters."
    )
    max_restarts_per_minute: int = Field(
        5,
        ge=0,
        description="Worker processes that `run --workers N` restarts after one died, at most this many within any "
        "60 seconds; a worker that dies beyond that is not restarted (one line says so) and the others go on. "
        "0: never restart.",
    )
    recycle_after: int | None = Field(
        None,
        ge=1,
        description="A worker process of `run` (of `--workers N`, or the child of `run` with one worker) ends after "
        "this many trials and is replaced by a fresh one, so that memory a long study leaks (TensorFlow's, the "
        "sampler's) is given back; null (the default): never.",
    )
    outage_window: float = Field(
        OUTAGE_WINDOW,
        gt=0,
        description="Seconds a worker waits in total for a lost study database (one outage, all calls together) "
        "before it exits; its trial stays RUNNING meanwhile and is retried by the next run if the database "
        "does not come back.",
    )
    checkpoints: str | None = Field(
        ".gapsearch-checkpoints",
        description="Folder (relative to the study file) where each running trial keeps one checkpoint of its "
        "training state, taken at the end of every epoch, so that its retry resumes from the last epoch; "
        "null: no checkpoints, a retry starts over.",
    )

    @field_validator("gpus", mode="before")
    @classmethod
    def _split_gpus(cls, value: Any) -> Any:
        return parse_gpus(value)

    @model_validator(mode="after")
    def _grace_exceeds_heartbeat(self) -> WorkersSpec:
        if self.grace_period <= self.heartbeat_interval:
            raise ValueError(
                f"grace_period must be longer than heartbeat_interval, but got (grace_period={self.grace_period}, "
                f"heartbeat_interval={self.heartbeat_interval})"
            )
        return self
