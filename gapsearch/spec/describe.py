"""The resolved study as people read it (``gapsearch validate``)."""

from __future__ import annotations

import math

from gapsearch.spec.checks import sampling_order, space_size
from gapsearch.spec.data import DelimitedData, SyntheticData
from gapsearch.spec.hyperparameters import Hyperparameters
from gapsearch.spec.space import Choice
from gapsearch.spec.study import StudySpec


def _settings(model: object, skip: tuple[str, ...] = ("type", "format")) -> str:
    values = model.model_dump()  # type: ignore[attr-defined]
    return ", ".join(f"{k}={v}" for k, v in values.items() if k not in skip and v is not None)


def _param(name: str, param: object) -> str:
    if isinstance(param, Choice):
        text = "choice  " + ", ".join(str(c) for c in param.choices)
    else:
        kind = "int" if Hyperparameters.model_fields[name].annotation is int else "float"
        low, high = (int(param.low), int(param.high)) if kind == "int" else (param.low, param.high)  # type: ignore[attr-defined]
        text = f"{kind:<7} {low} .. {high}"
        if param.step is not None:  # type: ignore[attr-defined]
            text += f" step {param.step:g}"  # type: ignore[attr-defined]
        if param.log:  # type: ignore[attr-defined]
            text += " log"
    if param.when:  # type: ignore[attr-defined]
        text += "   when " + " and ".join(f"{k} in ({', '.join(map(str, v))})" for k, v in param.when.items())  # type: ignore[attr-defined]
    return text


def describe_data(spec: StudySpec) -> str:
    data = spec.data
    if isinstance(data, SyntheticData):
        return f"synthetic: {_settings(data)}"
    assert isinstance(data, DelimitedData)
    files = ", ".join(
        f"{key}={spec.base_dir / getattr(data, key)}"
        for key in ("train", "validation", "test")
        if getattr(data, key) is not None
    )
    return f"{data.resolved_format()}: {files}; text={data.text!r} label={data.label!r} encoding={data.encoding}"


def describe_workers(spec: StudySpec) -> str:
    w = spec.workers
    gpus = w.gpus if isinstance(w.gpus, str) else ",".join(map(str, w.gpus))
    count = w.count if w.count is not None else "one per GPU slot, or 1 without a GPU"
    text = f"{count} (gpus {gpus}, {w.trials_per_gpu} per GPU"
    if w.gpu_memory_limit is not None:
        text += f", {w.gpu_memory_limit} MiB each"
    return text + f"); heartbeat {w.heartbeat_interval}s, grace {w.grace_period}s, {w.max_retries} retries"


def describe_study(spec: StudySpec, storage: str) -> str:
    """A multi-line summary of a validated study; ``storage`` must already be masked."""
    size = space_size(spec)
    size_text = "infinite (continuous ranges)" if size == math.inf else f"{size} configurations"
    lines = [
        f"study      {spec.name}  ({spec.source})",
        f"storage    {storage}",
        f"objective  {spec.direction} {spec.metric}",
        f"budget     {spec.n_trials} finished trials" + (f", at most {spec.timeout:g}s a run" if spec.timeout else ""),
        f"sampler    {spec.sampler.type} ({_settings(spec.sampler) or 'defaults'}; seed {spec.sampler_seed})",
        f"pruner     {spec.pruner.type}" + (f" ({_settings(spec.pruner)})" if _settings(spec.pruner) else ""),
        f"workers    {describe_workers(spec)}",
        f"data       {describe_data(spec)}",
        "fixed      " + ", ".join(f"{k}={v}" for k, v in spec.fixed.items()),
        f"search space: {size_text}",
    ]
    width = max((len(n) for n in spec.search_space), default=0)
    lines += [
        f"  {name:<{width}}  {_param(name, spec.search_space[name])}" for name in sampling_order(spec.search_space)
    ]
    return "\n".join(lines)
