"""The ``tracking:`` section: where trials are also recorded besides the study database."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gapsearch.spec._base import Frozen


class MlflowSpec(Frozen):
    """An MLflow tracking server (or local folder): each trial a run nested under one run per study."""

    tracking_uri: str | None = Field(
        None,
        description="MLflow tracking URI, e.g. http://127.0.0.1:5000 or sqlite:///mlflow.db (a database of MLflow's "
        "own, never the study database); default: MLflow's own (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in "
        "MLflow 3).",
    )
    experiment: str | None = Field(None, min_length=1, description="MLflow experiment name; default: the study name.")
    on_error: Literal["warn", "stop"] = Field(
        "warn",
        description="When the tracking server cannot be reached: 'warn' prints one line and the study runs on "
        "untracked; 'stop' ends the run with that line (exit 1).",
    )


class TrackingSpec(Frozen):
    """Experiment trackers that receive every finished trial (needs the optional extra: gapsearch[mlflow])."""

    mlflow: MlflowSpec | None = Field(None, description="Record trials as MLflow runs.")
