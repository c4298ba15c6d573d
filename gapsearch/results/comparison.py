"""A comparison's result as a typed record: stored as the study's user attribute ``compare:PARAM``, read back.

:class:`Comparison` is what :mod:`gapsearch.results.compare` produces: its plan, each value's runs and
their paired test. :meth:`Comparison.as_attr` writes it (:func:`store_comparison` keeps it with the study)
and :meth:`Comparison.from_attr` reads it back, so that ``gapsearch report`` prints a stored comparison
as ``gapsearch compare`` printed it.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gapsearch.stats import CONFIDENCE, PAIRED_TESTS, PairedTest, Summary
from gapsearch.study_attrs import COMPARISON_PREFIX, comparison_key, read_comparisons, write_comparison

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.hyperparameters import Hyperparameters

ATTR_PREFIX = COMPARISON_PREFIX


@dataclass(frozen=True)
class ComparisonPlan:
    """What a comparison will train: one configuration per value, each with every seed."""

    param: str
    values: tuple[Any, ...]
    base_trial: int
    seeds: tuple[int, ...]
    configurations: dict[Any, Hyperparameters]
    defaults_used: dict[Any, dict[str, Any]]  # per value: parameters the base trial did not use, at their defaults
    base_params: dict[str, Any]  # the base trial's other searched parameters

    @property
    def total_runs(self) -> int:
        return len(self.values) * len(self.seeds)


@dataclass(frozen=True)
class RunRecord:
    """One finished training run of a comparison."""

    value: Any
    seed_index: int
    seed: int
    metric_value: float
    seconds: float
    seconds_per_epoch: float
    gap: float | None  # training minus validation value of the metric at the best epoch; None if not logged


@dataclass(frozen=True)
class ValueResult:
    """One value's runs (in seed order), their summary, and its paired test against the reference value."""

    value: Any
    records: tuple[RunRecord, ...]
    summary: Summary
    costs: dict[str, float]
    difference: Summary | None = None  # of (this value - reference), paired by seed; None for the reference
    p_value: float | None = None

    @property
    def runs(self) -> tuple[float, ...]:
        return tuple(record.metric_value for record in self.records)

    @property
    def mean_seconds_per_epoch(self) -> float:
        return float(np.mean([record.seconds_per_epoch for record in self.records]))

    @property
    def mean_gap(self) -> float | None:
        gaps = [record.gap for record in self.records if record.gap is not None]
        return float(np.mean(gaps)) if len(gaps) == len(self.records) else None


@dataclass(frozen=True)
class Comparison:
    """A finished comparison, as printed and as stored with the study."""

    study_name: str
    param: str
    metric: str
    direction: str
    test: PairedTest
    plan: ComparisonPlan
    results: tuple[ValueResult, ...]  # best mean first
    seconds: float
    created: str = field(default_factory=lambda: _now())

    @property
    def reference(self) -> ValueResult:
        return self.results[0]

    @property
    def attr_key(self) -> str:
        return comparison_key(self.param)

    def as_attr(self) -> dict[str, Any]:
        """The JSON-ready record stored as the study's user attribute ``compare:PARAM``."""
        return {
            "param": self.param,
            "metric": self.metric,
            "direction": self.direction,
            "base_trial": self.plan.base_trial,
            "base_params": self.plan.base_params,
            "seeds": list(self.plan.seeds),
            "test": PAIRED_TESTS[self.test],
            "confidence": CONFIDENCE,
            "best": self.reference.value,
            "results": [
                {
                    "value": result.value,
                    "runs": list(result.runs),
                    **result.summary.as_dict(),
                    "costs": result.costs,
                    "defaults_used": self.plan.defaults_used.get(result.value, {}),
                    "difference": None if result.difference is None else result.difference.as_dict(),
                    "p_value": result.p_value,
                    "seconds_per_epoch": [record.seconds_per_epoch for record in result.records],
                    "mean_seconds_per_epoch": result.mean_seconds_per_epoch,
                    "gaps": [record.gap for record in result.records],
                    "mean_gap": result.mean_gap,
                }
                for result in self.results
            ],
            "seconds": round(self.seconds, 1),
            "created": self.created,
        }

    @classmethod
    def from_attr(cls, record: Mapping[str, Any], study_name: str) -> Comparison:
        """The comparison :meth:`as_attr` stored, read back.

        What was not stored stays empty: the plan's configurations, each run's wall seconds (NaN);
        the plan's values are in the stored order, best mean first.

        Raises:
            KeyError, TypeError, ValueError: ``record`` is not what :meth:`as_attr` writes.
        """
        seeds = tuple(int(seed) for seed in record["seeds"])
        results = []
        for item in record["results"]:
            runs = [float(value) for value in item["runs"]]
            per_epoch = item.get("seconds_per_epoch") or [math.nan] * len(runs)
            gaps = item.get("gaps") or [None] * len(runs)
            records = tuple(
                RunRecord(item["value"], index, seed, value, math.nan, seconds_per_epoch=float(seconds), gap=gap)
                for index, (seed, value, seconds, gap) in enumerate(zip(seeds, runs, per_epoch, gaps, strict=True))
            )
            difference = item.get("difference")
            results.append(
                ValueResult(
                    item["value"],
                    records,
                    Summary.from_dict(item),
                    dict(item.get("costs") or {}),
                    difference=None if difference is None else Summary.from_dict(difference),
                    p_value=item.get("p_value"),
                )
            )
        plan = ComparisonPlan(
            param=str(record["param"]),
            values=tuple(result.value for result in results),
            base_trial=int(record["base_trial"]),
            seeds=seeds,
            configurations={},
            defaults_used={
                item["value"]: item["defaults_used"] for item in record["results"] if item.get("defaults_used")
            },
            base_params=dict(record["base_params"]),
        )
        test = {label: name for name, label in PAIRED_TESTS.items()}[record["test"]]
        return cls(
            study_name=study_name,
            param=plan.param,
            metric=str(record["metric"]),
            direction=str(record["direction"]),
            test=test,  # type: ignore[arg-type]
            plan=plan,
            results=tuple(results),
            seconds=float(record.get("seconds", math.nan)),
            created=str(record.get("created", "")),
        )


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def store_comparison(study: optuna.Study, comparison: Comparison, where: dict[str, Any] | None = None) -> None:
    """Keep the comparison with the study, as its user attribute ``compare:PARAM`` (a rerun replaces it).

    ``where`` (host, device, versions: :mod:`gapsearch.runtime`) is stored with it.
    """
    write_comparison(study, comparison.param, {**comparison.as_attr(), **({"ran_on": where} if where else {})})


def stored_comparisons(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """The comparisons stored with a study, by parameter name."""
    return read_comparisons(study)


__all__: Sequence[str] = [
    "ATTR_PREFIX",
    "Comparison",
    "ComparisonPlan",
    "RunRecord",
    "ValueResult",
    "store_comparison",
    "stored_comparisons",
]
