"""The resolved study as people read it (``gapsearch validate``)."""

from __future__ import annotations

import math

from gapsearch.spec.checks import sampling_order, space_size
from gapsearch.spec.data import DelimitedData, JsonLinesData, KerasData, ParquetData, SyntheticData
from gapsearch.spec.hyperparameters import INTEGER_NAMES
from gapsearch.spec.space import Choice
from gapsearch.spec.study import StudySpec


def _settings(model: object, skip: tuple[str, ...] = ("type", "format")) -> str:
    values = model.model_dump()  # type: ignore[attr-defined]
    return ", ".join(f"{k}={v}" for k, v in values.items() if k not in skip and v is not None)


def _param(name: str, param: object) -> str:
    if isinstance(param, Choice):
        text = "choice  " + ", ".join(str(c) for c in param.choices)
    else:
        kind = "int" if name in INTEGER_NAMES else "float"
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
    if isinstance(data, KerasData):
        return f"keras: {data.dataset} (downloaded into ~/.keras/datasets on first use)"
    files = ", ".join(f"{key}={spec.base_dir / path}" for key, path in data.paths().items())
    text = f"{data.resolved_format()}: {files}"
    if isinstance(data, (DelimitedData, JsonLinesData, ParquetData)):
        text += f"; text={data.text!r} label={data.label!r}"
    if hasattr(data, "encoding"):
        text += f" encoding={data.encoding}"
    held_out = f"{data.folds}-fold cross-validation" if data.folds else None
    if held_out and data.inner_validation_split is not None:
        held_out += f", each fold's epochs chosen on {data.inner_validation_split:g} of its training rows"
    if held_out is None and getattr(data, "validation", None) is None:
        held_out = f"validation_split {data.validation_split:g}"
    return text + (f"; {held_out}" if held_out else "")


def _objectives(spec: StudySpec) -> str:
    text = ", ".join(f"{o.direction} {o.metric}" for o in spec.resolved_objectives)
    if spec.is_multi_objective:
        text += f" (Pareto front; early stopping follows {spec.monitored.metric})"
    return text


def _constraints(spec: StudySpec) -> str:
    parts = []
    for name, bound in spec.constraints.items():
        if bound.min is not None:
            parts.append(f"{name} >= {bound.min:g}")
        if bound.max is not None:
            parts.append(f"{name} <= {bound.max:g}")
    return ", ".join(parts)


def describe_workers(spec: StudySpec) -> str:
    w = spec.workers
    gpus = w.gpus if isinstance(w.gpus, str) else ",".join(map(str, w.gpus))
    count = w.count if w.count is not None else "one per GPU slot, or 1 without a GPU"
    text = f"{count} (gpus {gpus}, {w.trials_per_gpu} per GPU"
    if w.gpu_memory_limit is not None:
        text += f", {w.gpu_memory_limit} MiB each"
    checkpoints = f"checkpoints in {w.checkpoints}" if w.checkpoints is not None else "no checkpoints"
    recycled = f", recycled every {w.recycle_after} trials" if w.recycle_after is not None else ""
    return text + (
        f"); heartbeat {w.heartbeat_interval}s, grace {w.grace_period}s, {w.max_retries} retries, "
        f"at most {w.max_restarts_per_minute} restarts a minute{recycled}, outage window {w.outage_window:g}s, "
        f"{checkpoints}"
    )


def _mask(url: str) -> str:
    from gapsearch.masking import mask_url

    return mask_url(url)


def _warm_start(spec: StudySpec) -> list[str]:
    warm = spec.warm_start
    if warm is None:
        return []
    where = _mask(warm.storage) if warm.storage else "this study's storage"
    return [f"warm start the best {warm.top} parameter sets of study {warm.study} in {where}, queued once"]


def _tracking(spec: StudySpec) -> list[str]:
    mlflow = spec.tracking.mlflow
    if mlflow is None:
        return []
    uri = _mask(mlflow.tracking_uri) if mlflow.tracking_uri else "MLflow's default"
    return [f"tracking   MLflow at {uri}, experiment {mlflow.experiment or spec.name} (on_error: {mlflow.on_error})"]


def _in_effect(spec: StudySpec) -> dict[str, object]:
    """The fixed hyperparameters that act: options left unset (None) are left out, and so is ``kernel_size``
    where ``kernel_sizes`` takes its place."""
    fixed = {name: value for name, value in spec.fixed.items() if value is not None}
    if "kernel_sizes" in fixed or "kernel_sizes" in spec.search_space:
        fixed.pop("kernel_size", None)
    return fixed


def describe_study(spec: StudySpec, storage: str) -> str:
    """A multi-line summary of a validated study; ``storage`` must already be masked."""
    size = space_size(spec)
    size_text = "infinite (continuous ranges)" if size == math.inf else f"{size} configurations"
    if size == 1:  # nothing searched: the trials are repeats of one configuration
        size_text = "nothing searched: 1 configuration" + (
            f", which each of the {spec.n_trials} trials trains again with its own seed" if spec.n_trials > 1 else ""
        )
    lines = [
        f"study      {spec.name}  ({spec.source})",
        f"storage    {storage}",
        f"objective  {_objectives(spec)}",
        f"budget     {spec.n_trials} finished trials" + (f", at most {spec.timeout:g}s a run" if spec.timeout else ""),
        *([f"constraints {_constraints(spec)}"] if spec.constraints else []),
        *([f"repeats    {spec.repeats} training runs per trial, each with its own seed"] if spec.repeats > 1 else []),
        f"sampler    {spec.sampler.type} ({_settings(spec.sampler) or 'defaults'}; seed {spec.sampler_seed})",
        f"pruner     {spec.pruner.type}" + (f" ({_settings(spec.pruner)})" if _settings(spec.pruner) else ""),
        f"workers    {describe_workers(spec)}",
        *_warm_start(spec),
        *_tracking(spec),
        f"data       {describe_data(spec)}",
        "fixed      " + ", ".join(f"{k}={v}" for k, v in _in_effect(spec).items()),
        f"search space: {size_text}",
    ]
    width = max((len(n) for n in spec.search_space), default=0)
    lines += [
        f"  {name:<{width}}  {_param(name, spec.search_space[name])}" for name in sampling_order(spec.search_space)
    ]
    return "\n".join(lines)
