"""The ``warm_start:`` section: start a study from the best parameter sets of a finished one."""

from __future__ import annotations

from pydantic import Field

from gapsearch.spec._base import Frozen


class WarmStartSpec(Frozen):
    """Which finished study to take parameter sets from, and how many of them to queue."""

    study: str = Field(min_length=1, description="Name of the finished study whose best parameter sets to queue.")
    storage: str | None = Field(
        None, description="SQLAlchemy URL of the source study's database; default: this study's own storage."
    )
    top: int = Field(
        5,
        ge=1,
        le=1000,
        description="How many parameter sets to queue: the best completed trials (several objectives: the Pareto "
        "front, best first by the first objective).",
    )
