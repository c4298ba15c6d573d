"""What a person sees of a comparison in the terminal: a bar over its runs, a line per run, and its table.

:func:`comparison_report` prints a comparison as ``gapsearch compare`` finishes it, and as ``gapsearch
report`` shows one stored with the study (:meth:`gapsearch.results.comparison.Comparison.from_attr`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gapsearch.results.console import format_params, format_value, render_records

if TYPE_CHECKING:
    from tqdm import tqdm

    from gapsearch.results.comparison import Comparison, ComparisonPlan, RunRecord


class CompareProgress:
    """A bar over a comparison's training runs, with the time left, and a line per finished run."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None
        self.param = ""
        self.n_seeds = 0

    def start(self, plan: ComparisonPlan) -> None:
        from tqdm import tqdm

        self.param = plan.param
        self.n_seeds = len(plan.seeds)
        self.bar = tqdm(
            total=plan.total_runs,
            desc=f"compare {plan.param}",
            unit="run",
            disable=not self.enabled,
            dynamic_ncols=True,
            bar_format="{desc}: {n_fmt}/{total_fmt} runs |{bar}| elapsed {elapsed}, left {remaining}",
        )

    def __call__(self, record: RunRecord) -> None:
        from tqdm import tqdm

        if self.enabled:
            tqdm.write(
                f"seed {record.seed_index + 1}/{self.n_seeds}  {self.param}={format_value(record.value):<12}  "
                f"{format_value(record.metric_value):<8}  {record.seconds:6.1f}s"
            )
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


SIGNIFICANCE = 0.05


def _verdict(p: float | None) -> str:
    if p is None:
        return "no spread to test: add seeds"
    if p < SIGNIFICANCE:
        return f"worse (p < {SIGNIFICANCE:g})"
    return "within seed noise"


def _interval(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"[{low:.4f}, {high:.4f}]"


def comparison_report(comparison: Comparison) -> str:
    """A comparison as people read it: a heading, one row per value (best mean first), a legend."""
    plan = comparison.plan
    test_name = {"t": "paired t", "wilcoxon": "Wilcoxon"}[comparison.test]
    better = "higher" if comparison.direction == "maximize" else "lower"
    reference = comparison.reference.value
    lines = [
        f"compare {plan.param} in study {comparison.study_name}: {len(plan.seeds)} paired seeds, "
        f"{comparison.metric} ({better} is better)",
        f"  other parameters from trial {plan.base_trial}: {format_params(plan.base_params) or '(none searched)'}",
    ]
    for value, defaults in plan.defaults_used.items():
        lines.append(f"  {plan.param}={value} uses defaults the base trial did not need: {format_params(defaults)}")
    rows = []
    for result in comparison.results:
        summary, difference = result.summary, result.difference
        p = result.p_value
        rows.append(
            {
                plan.param: format_value(result.value),
                "mean": f"{summary.mean:.4f}",
                "95% CI": _interval(summary.low, summary.high),
                "std": f"{summary.std:.4f}" if summary.std is not None else "",
                "params": result.costs.get("params", ""),
                "s/epoch": f"{result.mean_seconds_per_epoch:.2f}",
                "train-val gap": "" if result.mean_gap is None else f"{result.mean_gap:+.4f}",
                f"vs {format_value(reference)}": "best" if difference is None else f"{difference.mean:+.4f}",
                "95% CI of difference": "" if difference is None else _interval(difference.low, difference.high),
                f"p ({test_name})": "" if difference is None else ("n/a" if p is None else f"{p:.3g}"),
                "verdict": "" if difference is None else _verdict(p),
            }
        )
    lines.append(render_records(rows, "table"))
    if any(result.mean_gap is not None for result in comparison.results):
        lines.append(
            f"train-val gap: the training {comparison.metric.removeprefix('val_')} (as Keras logs it: the epoch's "
            f"running mean, dropout on) minus {comparison.metric}, at the best epoch; mean over seeds"
        )
    lines.append(
        "per seed: "
        + "; ".join(f"{format_value(r.value)} " + " ".join(f"{v:.4f}" for v in r.runs) for r in comparison.results)
    )
    return "\n".join(lines)
