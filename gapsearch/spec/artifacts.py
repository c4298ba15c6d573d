"""The ``artifacts:`` section of a study file: where trial artifacts go and which models are kept."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gapsearch.spec._base import Frozen

DEFAULT_ARTIFACT_STORE = "gapsearch-artifacts"


class ArtifactsSpec(Frozen):
    """Trial artifacts (curves, history, summary, confusion matrix, the model) and where they are kept."""

    store: str = Field(
        DEFAULT_ARTIFACT_STORE,
        description="A folder (relative to the working directory, like the default SQLite database) or "
        "s3://BUCKET for an S3-compatible store shared by several machines.",
    )
    endpoint_url: str | None = Field(
        None, description="The S3 endpoint of an S3-compatible store (MinIO, Ceph...); AWS when left out."
    )
    save_models: Literal["best", "all", "none"] = Field(
        "best",
        description="Which trials keep their trained model: 'best' removes the models of trials that were "
        "beaten, 'all' keeps every one, 'none' saves no model (then nothing can be exported).",
    )

    @field_validator("store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an empty store is not allowed; expected a folder or s3://BUCKET")
        if value.startswith("s3://"):
            bucket = value.removeprefix("s3://")
            if not bucket or "/" in bucket.rstrip("/"):
                raise ValueError(f"{value!r} is not an S3 bucket; expected s3://BUCKET (no key prefix)")
        elif "://" in value:
            raise ValueError(f"{value!r} is not a supported store; expected a folder or s3://BUCKET")
        return value
