"""The whole study file as one typed, frozen object."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr

from gapsearch.spec._base import Frozen
from gapsearch.spec.artifacts import ArtifactsSpec
from gapsearch.spec.data import DataSpec
from gapsearch.spec.hyperparameters import HYPERPARAMETER_NAMES, Hyperparameters
from gapsearch.spec.pruners import MedianPruner, PrunerSpec
from gapsearch.spec.samplers import SamplerSpec, TPESampler
from gapsearch.spec.space import ParamSpec

Metric = Literal["val_accuracy", "val_auc", "val_loss"]
METRIC_DIRECTIONS: dict[str, str] = {"val_accuracy": "maximize", "val_auc": "maximize", "val_loss": "minimize"}
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
        "Default: sqlite:///gapsearch.db in the working directory.",
    )
    metric: Metric = Field(description="Validation metric that judges a trial.")
    direction: Literal["maximize", "minimize"] = Field(description="Whether a higher or a lower metric is better.")
    n_trials: int = Field(ge=1, description="Finished trials the study should hold; a rerun continues until it does.")
    timeout: float | None = Field(None, gt=0, description="Seconds after which a run starts no new trial.")
    seed: int = Field(
        0, description="Seeds data splits, the sampler (unless it has its own) and each trial's training."
    )
    max_failures: int = Field(5, ge=1, description="Failed trials in a row after which the run stops.")
    sampler: SamplerSpec = Field(default_factory=lambda: TPESampler(type="tpe"), description="How trials are chosen.")
    pruner: PrunerSpec = Field(
        default_factory=lambda: MedianPruner(type="median"), description="How unpromising trials are stopped early."
    )
    data: DataSpec = Field(description="Where the texts and labels come from.")
    model: Hyperparameters = Field(default_factory=Hyperparameters, description="Fixed hyperparameter values.")
    search_space: dict[str, ParamSpec] = Field(
        default_factory=dict,
        description="Hyperparameters to search: a list of choices, or {low, high} with optional step, log and when.",
        json_schema_extra={"propertyNames": {"enum": list(HYPERPARAMETER_NAMES)}},
    )
    artifacts: ArtifactsSpec = Field(
        default_factory=ArtifactsSpec, description="Where trial artifacts go and which trained models are kept."
    )

    _source: Path | None = PrivateAttr(None)
    _text: str | None = PrivateAttr(None)

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
        """Every hyperparameter not searched, with its fixed or default value."""
        return {k: v for k, v in self.model.model_dump().items() if k not in self.search_space}

    @property
    def sampler_seed(self) -> int:
        return self.sampler.seed if self.sampler.seed is not None else self.seed
