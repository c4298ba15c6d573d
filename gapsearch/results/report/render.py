"""Rendering: the report's figures (through :mod:`gapsearch.plots`) and its one self-contained HTML page.

Reads only the collected :class:`~gapsearch.results.report.results.StudyResults` and the
:class:`~gapsearch.results.report.reasoning.Headline`, never the study. Matplotlib only: no Keras.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gapsearch.results.report.explanations import explanation_section
from gapsearch.results.report.reasoning import Headline
from gapsearch.results.report.results import StudyResults
from gapsearch.stats import Summary

BOUNDED_METRICS = ("val_accuracy", "val_auc")


def _num(value: float) -> str:
    return f"{value:.4f}"


@dataclass(frozen=True)
class Figure:
    name: str  # the PNG file's name
    title: str
    caption: str
    png: bytes


def figures(results: StudyResults) -> tuple[list[Figure], list[str]]:
    """The report's figures, and a note for each figure that could not be drawn."""
    from gapsearch import plots

    label = results.metric_label
    shown: list[Figure] = []
    notes: list[str] = []
    cell_map = {(c.pooling, c.embedding_dim): c for c in results.cells}
    over = "the completed trials"
    if results.at_epoch is not None:  # too few completed: every trial is compared where all of them got to
        over = f"the completed and pruned trials' values at {results.at_epoch.at} (the last epoch all of them reached)"
        label = f"{label} at {results.at_epoch.at}"
    shown.append(
        Figure(
            "pooling_by_dimension.png",
            "Map of the combinations",
            f"Each cell is the mean over {over} with that pooling and embedding dimension (other "
            "hyperparameters vary within a cell), ± half its 95% t interval where there are 2 or more trials, and "
            f"the number of trials n. Grey cells have no {_untried(results)}.",
            plots.cell_heatmap(
                {k: (c.summary.mean, c.summary.half_width, c.summary.n) for k, c in cell_map.items()},
                results.poolings,
                results.dims,
                metric_label=label,
                maximize=results.maximize,
            ),
        )
    )
    shown.append(
        Figure(
            "trials_by_cell.png",
            "Spread of the trials in each combination",
            "Dots are single trials; a marker with bars is the mean of a combination and its 95% t interval "
            "(no bars: a single trial). Overlapping bars mean the study cannot separate those combinations.",
            plots.cell_means(
                {k: c.values for k, c in cell_map.items()},
                {k: (c.summary.mean, c.summary.low, c.summary.high) for k, c in cell_map.items()},
                results.poolings,
                results.dims,
                metric_label=label,
            ),
        )
    )
    shown.append(
        Figure(
            "cost.png",
            f"{label.capitalize()} against cost",
            "Left: trainable parameters (mostly the embedding: vocabulary × dimension). Right: seconds per "
            "training epoch on the machine that ran the trial. The best trade-offs sit towards the top left"
            + ("." if results.maximize else " (lower is better here)."),
            plots.accuracy_vs_cost(
                [(r.value, r.params_total, r.seconds_per_epoch, r.pooling) for r in results.compared],
                metric_label=label,
            ),
        )
    )
    importance = results.importances
    if importance:
        shown.append(
            Figure(
                "importances.png",
                "Parameter importances",
                "How much of the variation of the metric each searched hyperparameter explains (Optuna's "
                f"default evaluator, PED-ANOVA) over {over}, for the parameters every trial has: "
                "conditional ones such as attention_units are left out. With few trials this is a rough guide.",
                plots.importances(importance),
            )
        )
    else:
        notes.append("Parameter importances need at least two trials that differ in a searched parameter.")
    shown.append(
        Figure(
            "history.png",
            "Optimization history",
            "Each completed trial in the order it ran, and the best value found so far.",
            plots.optimization_history(
                [r.number for r in results.rows],
                [r.value for r in results.rows],
                metric_label=label,
                maximize=results.maximize,
            ),
        )
    )
    filter_values = {r.filters for r in results.compared if r.filters is not None}
    if len(filter_values) > 1:
        shown.append(
            Figure(
                "filters.png",
                "Effect of the filter count",
                "Each trial by its number of convolution filters, coloured by pooling; the black bars are the mean "
                "per filter count.",
                plots.filter_effect(
                    [(r.filters, r.value, r.pooling) for r in results.compared if r.filters is not None],
                    metric_label=label,
                ),
            )
        )
    else:
        only = next(iter(filter_values), None)
        notes.append(
            "The filter count did not vary"
            + (f" (every trial used {only} filters)" if only is not None else " (no convolution encoder)")
            + ", so its effect cannot be shown."
        )
    return shown, notes


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0;
       background: #f6f7f9; line-height: 1.5; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: white; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 0.92em; }
.answer { background: #eef6ee; border-left: 5px solid #2ca02c; padding: 12px 18px; margin: 18px 0; }
.answer p.title { font-size: 1.2em; font-weight: 600; margin: 0 0 0.4em; }
.answer p { margin: 0.3em 0; }
table { border-collapse: collapse; margin: 10px 0; font-size: 0.92em; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e3e3; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #f3faf3; font-weight: 600; }
figure { margin: 18px 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; }
pre { font-size: 0.82em; overflow-x: auto; background: #f6f7f9; padding: 8px; }
.note { color: #666; font-style: italic; }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int], best_row: int | None = 0) -> str:
    head = "".join(
        f'<th class="num">{html.escape(h)}</th>' if i in numeric else f"<th>{html.escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for index, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{html.escape(str(v))}</td>' if i in numeric else f"<td>{html.escape(str(v))}</td>"
            for i, v in enumerate(row)
        )
        body.append(f'<tr class="best">{cells}</tr>' if index == best_row else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _interval(summary: Summary, metric: str) -> str:
    """The 95% interval as text; accuracy and AUC cannot leave [0, 1], so neither does their interval."""
    if summary.low is None or summary.high is None:
        return "too few trials"
    low, high = summary.low, summary.high
    if metric in BOUNDED_METRICS:
        low, high = max(low, 0.0), min(high, 1.0)
    return f"{low:.4f} – {high:.4f}"


def _untried(results: StudyResults) -> str:
    """What a combination without a cell lacks: a trial, or (when pruned trials are left out) a completed one."""
    left_out = results.at_epoch is None and results.pruning is not None and results.pruning.pruned > 0
    return "completed trial" if left_out else "trial"


def _opt(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def comparisons_section(results: StudyResults) -> str:
    """The paired comparisons stored with the study, each as ``gapsearch compare`` printed it."""
    from gapsearch.results.compare_console import comparison_report

    if not results.comparisons and not results.comparison_notes:
        return ""
    parts = ['<h2 id="comparisons">Stored comparisons</h2>']
    for comparison in results.comparisons:
        parts.append(
            f"<p>{html.escape(comparison.param)}: every other parameter from trial #{comparison.plan.base_trial}, each "
            f"value trained to the end once per seed, the same seeds for every value (gapsearch compare, "
            f"{html.escape(comparison.created or 'date not stored')}).</p>"
            f'<pre id="compare-{html.escape(comparison.param)}">{html.escape(comparison_report(comparison))}</pre>'
        )
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in results.comparison_notes]
    return "\n".join(parts)


def render_html(results: StudyResults, answer: Headline, shown: list[Figure], notes: list[str], storage: str) -> str:
    """The report as one HTML document; every figure is embedded, so the file stands alone."""
    label = results.metric_label
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(results.states.items()))
    untried = len(results.poolings) * len(results.dims) - len(results.cells)
    ranked = results.ranked[:10]
    explained = explanation_section(results)
    param_names = list(dict.fromkeys(name for r in ranked for name in r.params))
    best_table = _table(
        ["rank", "trial", results.metric, *param_names, "parameters", "s/epoch", "epochs"],
        [
            [
                i + 1,
                f"#{r.number}",
                _num(r.value),
                *(r.params.get(n, "–") for n in param_names),
                _opt(r.params_total, ","),
                _opt(r.seconds_per_epoch, ".2f"),
                _opt(r.epochs_run, "d"),
            ]
            for i, r in enumerate(ranked)
        ],
        numeric={0, 2, len(param_names) + 3, len(param_names) + 4, len(param_names) + 5},
        best_row=next((i for i, r in enumerate(ranked) if results.best and r.number == results.best.number), None),
    )
    at = "" if results.at_epoch is None else f" at {results.at_epoch.at}"
    cell_table = _table(
        [
            "pooling",
            "embedding dim",
            "trials",
            f"mean {results.metric}{at}",
            "spread (std)",
            "95% interval",
            "best",
            "parameters",
            "s/epoch",
        ],
        [
            [
                c.pooling,
                c.embedding_dim,
                c.summary.n,
                _num(c.summary.mean),
                _opt(c.summary.std, ".4f"),
                _interval(c.summary, results.metric),
                _num((max if results.maximize else min)(c.values)),
                _opt(c.params_total, ",.0f"),
                _opt(c.seconds_per_epoch, ".2f"),
            ]
            for c in results.cells
        ],
        numeric={1, 2, 3, 4, 6, 7, 8},
    )
    pooling_table = _table(
        ["pooling", "trials", f"mean {results.metric}{at}", "95% interval"],
        [[p, s.n, _num(s.mean), _interval(s, results.metric)] for p, s in results.by("pooling")],
        numeric={1, 2},
    )
    figure_html = []
    for item in shown:
        data = base64.b64encode(item.png).decode("ascii")
        figure_html.append(
            f'<h2 id="{html.escape(item.name.removesuffix(".png"))}">{html.escape(item.title)}</h2>'
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(item.title)}">'
            f"<figcaption>{html.escape(item.caption)}</figcaption></figure>"
        )
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sentences = "".join(f"<p>{html.escape(s)}</p>" for s in answer.sentences)
    notes_html = "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)
    untried_html = (
        f'<p class="note">{untried} of {len(results.poolings) * len(results.dims)} combinations of the poolings and '
        f"dimensions tried so far have no {_untried(results)} yet.</p>"
        if untried > 0
        else ""
    )
    basis = (
        "Best combination first."
        if results.at_epoch is None
        else f"Best combination first, by every completed and pruned trial's {results.metric} at "
        f"{results.at_epoch.at}, the last epoch all of them reached (too few trials completed to compare their "
        "final values)."
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gapsearch report: {html.escape(results.name)}</title><style>{_CSS}</style></head>
<body><main>
<h1>Study {html.escape(results.name)}: pooling and embedding dimension</h1>
<p class="meta">{results.direction} {html.escape(results.metric)} ({html.escape(label)}) &middot; trials: {states}
&middot; {html.escape(storage)} &middot; generated {generated}</p>
<section class="answer" id="headline"><p class="title">{html.escape(answer.title)}</p>{sentences}</section>
<h2 id="best-trials">Best trials</h2>
{best_table}
<h2 id="cells">{html.escape(label.capitalize())} by pooling × embedding dimension</h2>
<p>{html.escape(basis)} The interval is a 95% t interval of the mean over the combination's trials; it
needs at least two trials.</p>
{cell_table}
{untried_html}
<h3>By pooling, over all dimensions</h3>
{pooling_table}
{"".join(figure_html)}
{comparisons_section(results)}
{explained}
{notes_html}
<p class="meta">Made by gapsearch from the study database; the per-trial curves, confusion matrices and models are
in the dashboard (gapsearch dashboard STUDY.yaml).</p>
</main></body></html>
"""
