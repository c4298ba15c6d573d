"""Summary statistics with their uncertainty: means, t intervals, and the difference of two means (Welch)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95


def _t_quantile(df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, df))


@dataclass(frozen=True)
class Summary:
    """The mean of some values with their spread and, from 2 values on, a 95% t interval of the mean."""

    n: int
    mean: float
    std: float | None  # sample standard deviation; None for a single value
    low: float | None
    high: float | None

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2


def summarize(values: Sequence[float]) -> Summary:
    """Mean, sample standard deviation and the 95% t interval of the mean (None below 2 values)."""
    if not values:
        raise ValueError("summarize needs at least one value, but got none")
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Summary(len(values), mean, None, None, None)
    std = statistics.stdev(values)
    half = _t_quantile(len(values) - 1) * std / math.sqrt(len(values))
    return Summary(len(values), mean, std, mean - half, mean + half)


@dataclass(frozen=True)
class Difference:
    """``a.mean - b.mean`` with its 95% Welch interval."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def difference(a: Summary, b: Summary) -> Difference | None:
    """The difference of two means with Welch's 95% interval; None unless both have 2 or more values."""
    if a.std is None or b.std is None:
        return None
    va, vb = a.std**2 / a.n, b.std**2 / b.n
    estimate = a.mean - b.mean
    if va + vb == 0:
        return Difference(estimate, estimate, estimate)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    half = _t_quantile(df) * math.sqrt(va + vb)
    return Difference(estimate, estimate - half, estimate + half)
