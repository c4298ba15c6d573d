"""The statistics of repeated runs: mean, spread, t-based confidence intervals, paired and Welch tests.

Repeated training runs of one configuration are few (3 to 10) and their spread is what
decides whether a difference is real (Zhang & Wallace 2015), so intervals use Student's t,
not the normal approximation, and two configurations trained with the same seeds are
compared pairwise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

CONFIDENCE = 0.95
PairedTest = Literal["t", "wilcoxon"]
PAIRED_TESTS: dict[str, str] = {"t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank test"}


def _t_quantile(df: float, confidence: float = CONFIDENCE) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and a t-based confidence interval of a few values."""

    n: int
    mean: float
    std: float | None  # None for a single value
    low: float | None
    high: float | None

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def as_dict(self) -> dict[str, float | int | None]:
        return {"n": self.n, "mean": self.mean, "std": self.std, "ci_low": self.low, "ci_high": self.high}

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Summary:
        """The summary :meth:`as_dict` wrote (other keys beside it are ignored)."""
        return cls(int(stored["n"]), float(stored["mean"]), stored["std"], stored["ci_low"], stored["ci_high"])


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """The mean of ``values`` with the ``confidence`` interval of Student's t (none for one value)."""
    if not values:
        raise ValueError("summarize needs at least one value")
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Summary(len(values), mean, None, None, None)
    std = statistics.stdev(values)
    half = _t_quantile(len(values) - 1, confidence) * std / math.sqrt(len(values))
    return Summary(len(values), mean, std, mean - half, mean + half)


def paired_p_value(values: Sequence[float], reference: Sequence[float], test: PairedTest = "t") -> float | None:
    """Two-sided p-value that ``values`` and ``reference``, paired by position, differ only by chance.

    1.0 when every pair is equal. None when the test has no answer: scipy returns NaN, or (t-test)
    every difference is the same non-zero number, so there is no spread to estimate (t would call
    that certain, p = 0, from as few as two seeds).
    """
    import warnings

    from scipy import stats

    if len(values) != len(reference) or len(values) < 2:
        raise ValueError(
            f"a paired test needs two lists of the same length, 2 or more, but got {len(values)} and {len(reference)}"
        )
    differences = [a - b for a, b in zip(values, reference, strict=True)]
    if all(d == 0 for d in differences):
        return 1.0
    if test == "t" and all(math.isclose(d, differences[0], rel_tol=1e-9, abs_tol=1e-12) for d in differences):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant differences: t is infinite and p is 0
        result = stats.ttest_rel(values, reference) if test == "t" else stats.wilcoxon(values, reference)
    p = float(result.pvalue)
    return None if math.isnan(p) else p


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
    """The difference of two independent means with Welch's 95% interval; None unless both have 2 or more values."""
    if a.std is None or b.std is None:
        return None
    va, vb = a.std**2 / a.n, b.std**2 / b.n
    estimate = a.mean - b.mean
    if va + vb == 0:
        return Difference(estimate, estimate, estimate)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    half = _t_quantile(df) * math.sqrt(va + vb)
    return Difference(estimate, estimate - half, estimate + half)
