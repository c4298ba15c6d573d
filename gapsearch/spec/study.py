"""The whole study file as one typed, frozen object."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from gapsearch.spec._base import Frozen
from gapsearch.spec.artifacts import ArtifactsSpec
from gapsearch.spec.data import DataSpec, any_of_in_schema
from gapsearch.spec.hyperparameters import HYPERPARAMETER_NAMES, Hyperparameters
from gapsearch.spec.metrics import COSTS, METRIC_DIRECTIONS, Metric
from gapsearch.spec.objectives import Bound, ObjectiveSpec
from gapsearch.spec.pruners import PrunerSpec, SuccessiveHalvingPruner
from gapsearch.spec.samplers import SamplerSpec, TPESampler
from gapsearch.spec.space import ParamSpec
from gapsearch.spec.tracking import TrackingSpec
from gapsearch.spec.warm_start import WarmStartSpec
from gapsearch.spec.workers import WorkersSpec

DEFAULT_STORAGE = "sqlite:///gapsearch.db"


class StudySpec(Frozen):
    """A study: what to search, on which data, judged by which metric, kept where."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=200,
        description="The study's name in the database; letters, digits, '_', '.', '-'.",
    )
    storage: str | None = Field(
        None,
        description="SQLAlchemy URL of the study database; GAPSEARCH_STORAGE and --storage override it. "
        f"Default: {DEFAULT_STORAGE} in the working directory.",
    )
    metric: Metric | None = Field(None, description="Validation metric that judges a trial (or give objectives).")
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description="Whether a higher or a lower metric is better (with metric)."
    )
    objectives: tuple[ObjectiveSpec, ...] | None = Field(
        None,
        min_length=1,
        description="In place of metric and direction: the quantities that judge a trial, each with its direction. "
        "Several give a multi-objective study (its best trials are the Pareto front).",
    )
    constraints: dict[str, Bound] = Field(
        default_factory=dict,
        description="Bounds on measured quantities, e.g. {params: {max: 2.0e6}}; "
        "trials outside them are kept, marked infeasible.",
        json_schema_extra={"propertyNames": {"enum": list(METRIC_DIRECTIONS)}},
    )
    repeats: int = Field(
        1, ge=1, le=100, description="Training runs per trial, each with its own seed; the trial's value is the mean."
    )
    n_trials: int = Field(ge=1, description="Finished trials the study should hold; a rerun continues until it does.")
    timeout: float | None = Field(None, gt=0, description="Seconds after which a run starts no new trial.")
    seed: int = Field(
        0, description="Seeds data splits, the sampler (unless it has its own) and each trial's training."
    )
    max_failures: int = Field(5, ge=1, description="Failed trials in a row after which the run stops.")
    sampler: SamplerSpec = Field(
        default_factory=lambda: TPESampler(type="tpe", n_startup_trials=5),
        description="How trials are chosen: TPE after 5 random trials by default (chosen by the learning-curve "
        "replays).",
    )
    pruner: PrunerSpec = Field(
        default_factory=lambda: SuccessiveHalvingPruner(
            type="successive_halving", min_resource=2, reduction_factor=2, compare="best_so_far"
        ),
        description="How unpromising trials are stopped early: successive halving from the second epoch on each "
        "run's best value so far, keeping the better half at each rung, by default (chosen by the learning-curve "
        "replays); none (the default) or cost_aware in a study with several objectives.",
    )
    workers: WorkersSpec = Field(
        default_factory=WorkersSpec,
        description="Parallel worker processes, their GPUs, heartbeats and retries of trials whose worker died.",
    )
    data: DataSpec = Field(description="Where the texts and labels come from.", json_schema_extra=any_of_in_schema)
    model: Hyperparameters = Field(default_factory=Hyperparameters, description="Fixed hyperparameter values.")
    search_space: dict[str, ParamSpec] = Field(
        default_factory=dict,
        description="Hyperparameters to search: a list of choices, or {low, high} with optional step, log and when.",
        json_schema_extra={"propertyNames": {"enum": list(HYPERPARAMETER_NAMES)}},
    )
    artifacts: ArtifactsSpec = Field(
        default_factory=ArtifactsSpec, description="Where trial artifacts go and which trained models are kept."
    )
    warm_start: WarmStartSpec | None = Field(
        None,
        description="Queue the best parameter sets of a finished study before sampling (once per study); "
        "sets outside this study's space are skipped.",
    )
    portfolio: int = Field(
        0,
        ge=0,
        le=20,
        description="Queue this many configurations of gapsearch's starting portfolio (those that did well across "
        "its benchmark data sets) that fit the search space, before the sampler takes over; 0 for none.",
    )
    tracking: TrackingSpec = Field(
        default_factory=TrackingSpec, description="Experiment tracking: each finished trial also recorded in MLflow."
    )

    _source: Path | None = PrivateAttr(None)
    _text: str | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _no_pruner_by_default_for_several_objectives(cls, data: object) -> object:
        # Optuna cannot prune several objectives, so the single-objective default would only be an error.
        objectives = data.get("objectives") if isinstance(data, dict) else None
        if isinstance(objectives, list) and len(objectives) > 1 and "pruner" not in data:  # type: ignore[operator]
            return {**data, "pruner": {"type": "none"}}  # type: ignore[dict-item]
        return data

    @property
    def source(self) -> Path | None:
        """The study file this spec was read from, if any."""
        return self._source

    @property
    def text(self) -> str | None:
        """The study file's text as written, if it was read from a file."""
        return self._text

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the study file are resolved against."""
        return self._source.parent if self._source is not None else Path.cwd()

    @property
    def fixed(self) -> dict[str, object]:
        """Every hyperparameter not searched, with its fixed or default value.

        With pre-trained vectors, ``embedding_dim`` is the vectors' dimension: the loader sets it from the file's
        first line, once (:func:`gapsearch.spec.loader.parse_study`).
        """
        return {k: v for k, v in self.model.model_dump().items() if k not in self.search_space}

    @property
    def resolved_objectives(self) -> tuple[ObjectiveSpec, ...]:
        """The objectives in force: ``objectives``, or the one ``metric`` and ``direction`` pair."""
        if self.objectives is not None:
            return self.objectives
        metric = str(self.metric)
        return (ObjectiveSpec(metric=metric, direction=self.direction or METRIC_DIRECTIONS[metric]),)

    @property
    def objective_names(self) -> list[str]:
        return [objective.metric for objective in self.resolved_objectives]

    @property
    def directions(self) -> list[Literal["maximize", "minimize"]]:
        return [objective.direction for objective in self.resolved_objectives]

    @property
    def is_multi_objective(self) -> bool:
        return len(self.resolved_objectives) > 1

    @property
    def monitored(self) -> ObjectiveSpec:
        """The first training metric among the objectives: early stopping and the pruner follow it."""
        return next(o for o in self.resolved_objectives if o.metric not in COSTS)

    @property
    def measured_metrics(self) -> set[str]:
        """Every training metric the objectives or the constraints name."""
        return {name for name in (*self.objective_names, *self.constraints) if name not in COSTS}

    @property
    def named_costs(self) -> set[str]:
        """Every cost (``COSTS``) the objectives or the constraints name."""
        return {name for name in (*self.objective_names, *self.constraints) if name in COSTS}

    @property
    def compiled_metrics(self) -> frozenset[str]:
        """The Keras metrics a trial's model computes: those the study measures, without ``val_`` (loss aside).

        Every other metric would only cost time in each training step and in tracing the step.
        """
        return frozenset(name.removeprefix("val_") for name in self.measured_metrics) - {"loss"}

    @property
    def sampler_seed(self) -> int:
        return self.sampler.seed if self.sampler.seed is not None else self.seed
