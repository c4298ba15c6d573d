"""The frozen, strict base every study-file class shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """A study-file section: unknown keys are errors and values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)
