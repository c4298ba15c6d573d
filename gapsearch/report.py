"""The study report: which pooling and embedding dimension won, by how much, at what cost, how surely.

:func:`collect` reads the finished trials into plain rows and per-cell statistics, :func:`headline`
says what they show in plain words, and :func:`write_report` writes one self-contained HTML file
(figures embedded) and the same figures as PNG files. Matplotlib only: no Keras.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import UserError
from gapsearch.stats import Difference, Summary, difference, summarize

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec

METRIC_LABELS = {"val_accuracy": "validation accuracy", "val_auc": "validation AUC", "val_loss": "validation loss"}
MIN_FOR_INTERVAL = 2
#: Below this many trials in either of two combinations, a clear difference is called a hint, not proof.
MIN_FOR_CONFIDENCE = 3
BOUNDED_METRICS = ("val_accuracy", "val_auc")


@dataclass(frozen=True)
class TrialRow:
    """A completed trial, with the pooling and embedding dimension it used (searched or fixed)."""

    number: int
    value: float
    params: dict[str, Any]
    pooling: str
    embedding_dim: int
    filters: int | None
    params_total: int | None
    seconds_per_epoch: float | None
    epochs_run: int | None


@dataclass(frozen=True)
class Cell:
    """The trials of one (pooling, embedding_dim) combination: their metric and their mean cost."""

    pooling: str
    embedding_dim: int
    summary: Summary
    values: tuple[float, ...]
    params_total: float | None
    seconds_per_epoch: float | None

    @property
    def name(self) -> str:
        return f"{self.pooling} pooling with embedding dimension {self.embedding_dim}"


@dataclass(frozen=True)
class StudyResults:
    """Everything the report shows, read once from the study."""

    name: str
    metric: str
    direction: str
    rows: list[TrialRow]
    states: dict[str, int]
    cells: list[Cell]  # best first
    poolings: list[str]  # those tried, in a fixed order
    dims: list[int]
    searched: set[str] = field(default_factory=set)

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def metric_label(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)

    def by(self, factor: str) -> list[tuple[Any, Summary]]:
        """The metric summarized per value of ``factor`` (``pooling`` or ``embedding_dim``), best first."""
        groups: dict[Any, list[float]] = {}
        for row in self.rows:
            groups.setdefault(getattr(row, factor), []).append(row.value)
        ranked = [(key, summarize(values)) for key, values in groups.items()]
        return sorted(ranked, key=lambda item: -item[1].mean if self.maximize else item[1].mean)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def collect(study: optuna.Study, spec: StudySpec) -> StudyResults:
    """Read the study's completed trials into rows and (pooling, embedding_dim) cells."""
    from optuna.trial import TrialState

    from gapsearch.plots import _ordered
    from gapsearch.trial_attrs import ModelCosts, TrainingOutcome

    fixed = spec.fixed
    monitored = spec.objective_names.index(spec.monitored.metric)  # the training metric the report is about
    trials = study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    rows = []
    for trial in trials:
        if trial.state != TrialState.COMPLETE or not trial.values or not math.isfinite(trial.values[monitored]):
            continue
        costs, training = ModelCosts.read(trial), TrainingOutcome.read(trial)
        filters = trial.params.get("filters", fixed.get("filters"))
        rows.append(
            TrialRow(
                number=trial.number,
                value=float(trial.values[monitored]),
                params=dict(trial.params),
                pooling=str(trial.params.get("pooling", fixed.get("pooling"))),
                embedding_dim=int(trial.params.get("embedding_dim", fixed.get("embedding_dim"))),  # type: ignore[arg-type]
                filters=None if filters is None else int(filters),  # type: ignore[call-overload]
                params_total=None if costs is None else costs.params,
                seconds_per_epoch=None if training is None else training.seconds_per_epoch,
                epochs_run=None if training is None else training.epochs_run,
            )
        )
    if not rows:
        raise UserError(f"study {spec.name!r} has no completed trial yet; run it first (gapsearch run)")
    maximize = spec.monitored.direction == "maximize"
    groups: dict[tuple[str, int], list[TrialRow]] = {}
    for row in rows:
        groups.setdefault((row.pooling, row.embedding_dim), []).append(row)
    cells = [
        Cell(
            pooling=pooling,
            embedding_dim=dim,
            summary=summarize([r.value for r in members]),
            values=tuple(r.value for r in members),
            params_total=_mean([r.params_total for r in members]),
            seconds_per_epoch=_mean([r.seconds_per_epoch for r in members]),
        )
        for (pooling, dim), members in groups.items()
    ]
    cells.sort(key=lambda c: (-c.summary.mean if maximize else c.summary.mean, -c.summary.n))
    return StudyResults(
        name=spec.name,
        metric=spec.monitored.metric,
        direction=spec.monitored.direction,
        rows=sorted(rows, key=lambda r: r.number),
        states=states,
        cells=cells,
        poolings=_ordered([r.pooling for r in rows]),
        dims=_ordered([r.embedding_dim for r in rows]),
        searched=set(spec.search_space),
    )


def _num(value: float) -> str:
    return f"{value:.4f}"


def _count(n: int, word: str = "trial") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _cost(cell: Cell) -> str:
    parts = []
    if cell.params_total is not None:
        parts.append(f"{cell.params_total:,.0f} parameters")
    if cell.seconds_per_epoch is not None:
        parts.append(f"{cell.seconds_per_epoch:.2f} s per epoch")
    return " and ".join(parts) if parts else "an unknown cost"


def _ratios(winner: Cell, other: Cell) -> str:
    """``" (4.1x the parameters, 1.6x the time per epoch)"`` of the winner against another combination."""
    parts = []
    if winner.params_total and other.params_total:
        parts.append(f"{winner.params_total / other.params_total:.1f}× the parameters")
    if winner.seconds_per_epoch and other.seconds_per_epoch:
        parts.append(f"{winner.seconds_per_epoch / other.seconds_per_epoch:.1f}× the time per epoch")
    return f" (the winner has {', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class Headline:
    """The report's answer: a title sentence, then the sentences that qualify it."""

    title: str
    sentences: list[str]
    difference: Difference | None = None


def headline(results: StudyResults) -> Headline:
    """Which pooling and dimension won, by how much, at what cost, and how sure the study is, in plain words."""
    label = results.metric_label
    cells = results.cells
    best_trial = (max if results.maximize else min)(results.rows, key=lambda r: r.value)
    best_line = f"The single best trial is #{best_trial.number} ({label} {_num(best_trial.value)})."
    winner = cells[0]
    title = (
        f"{winner.pooling.capitalize()} pooling with embedding dimension {winner.embedding_dim} did best: "
        f"mean {label} {_num(winner.summary.mean)} over {_count(winner.summary.n)}."
    )
    if len(cells) == 1:
        fixed = [f for f in ("pooling", "embedding_dim") if f not in results.searched]
        why = f" ({' and '.join(fixed)} fixed in the study file)" if fixed else ""
        return Headline(
            title=f"Every completed trial used {winner.pooling} pooling with embedding dimension "
            f"{winner.embedding_dim}{why}: mean {label} {_num(winner.summary.mean)} over "
            f"{_count(winner.summary.n)}.",
            sentences=["The study cannot compare poolings or dimensions: only one combination was tried.", best_line],
        )
    runner_up = cells[1]
    direction_word = "above" if results.maximize else "below"
    margin = abs(winner.summary.mean - runner_up.summary.mean)
    sentences = [
        f"That is {_num(margin)} {direction_word} the next best combination, {runner_up.name} "
        f"({_num(runner_up.summary.mean)} over {_count(runner_up.summary.n)}).",
        f"The winner costs {_cost(winner)}; the runner-up {_cost(runner_up)}{_ratios(winner, runner_up)}.",
    ]
    diff = difference(winner.summary, runner_up.summary)
    if diff is None:
        sentences.append(
            f"Too few trials to be sure: the winner has {_count(winner.summary.n)} and the runner-up "
            f"{_count(runner_up.summary.n)}, and an interval needs at least {MIN_FOR_INTERVAL} per combination. "
            "Run more trials (n_trials) before trusting this ranking."
        )
    elif diff.excludes_zero and min(winner.summary.n, runner_up.summary.n) < MIN_FOR_CONFIDENCE:
        sentences.append(
            f"A hint rather than proof: the 95% interval of the difference, [{diff.low:+.4f}, {diff.high:+.4f}], "
            f"excludes zero (Welch's t interval), but it rests on only {_count(winner.summary.n)} and "
            f"{_count(runner_up.summary.n)}; run more trials to confirm it."
        )
    elif diff.excludes_zero:
        sentences.append(
            f"The study is fairly sure of this: the 95% interval of the difference, "
            f"[{diff.low:+.4f}, {diff.high:+.4f}], excludes zero (Welch's t interval over the trials of each)."
        )
    else:
        sentences.append(
            f"The study cannot tell these two apart yet: the 95% interval of the difference, "
            f"[{diff.low:+.4f}, {diff.high:+.4f}], includes zero (Welch's t interval over the trials of each)."
        )
    pooled = results.by("pooling")
    if len(pooled) > 1:
        sentences.append(
            "Over all dimensions, by pooling: "
            + ", ".join(f"{p}: {_num(s.mean)} ({_count(s.n)})" for p, s in pooled)
            + "."
        )
    dims = results.by("embedding_dim")
    if len(dims) > 1:
        sentences.append(
            "Over all poolings, by embedding dimension: "
            + ", ".join(f"dimension {d}: {_num(s.mean)} ({_count(s.n)})" for d, s in dims)
            + "."
        )
    sentences.append(best_line)
    return Headline(title=title, sentences=sentences, difference=diff)


@dataclass(frozen=True)
class Figure:
    name: str  # the PNG file's name
    title: str
    caption: str
    png: bytes


def figures(results: StudyResults, study: optuna.Study) -> tuple[list[Figure], list[str]]:
    """The report's figures, and a note for each figure that could not be drawn."""
    from gapsearch import plots

    label = results.metric_label
    shown: list[Figure] = []
    notes: list[str] = []
    cell_map = {(c.pooling, c.embedding_dim): c for c in results.cells}
    shown.append(
        Figure(
            "pooling_by_dimension.png",
            "Map of the combinations",
            "Each cell is the mean over the completed trials with that pooling and embedding dimension (other "
            "hyperparameters vary within a cell), ± half its 95% t interval where there are 2 or more trials, and "
            "the number of trials n. Grey cells were never tried.",
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
                [(r.value, r.params_total, r.seconds_per_epoch, r.pooling) for r in results.rows], metric_label=label
            ),
        )
    )
    importance = _importances(study)
    if importance:
        shown.append(
            Figure(
                "importances.png",
                "Parameter importances",
                "How much of the variation of the metric each searched hyperparameter explains (Optuna's "
                "default evaluator, PED-ANOVA), over the parameters every trial has: conditional ones such as "
                "attention_units are left out. With few trials this is a rough guide.",
                plots.importances(importance),
            )
        )
    else:
        notes.append("Parameter importances need at least two completed trials that differ in a searched parameter.")
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
    filter_values = {r.filters for r in results.rows if r.filters is not None}
    if len(filter_values) > 1:
        shown.append(
            Figure(
                "filters.png",
                "Effect of the filter count",
                "Each trial by its number of convolution filters, coloured by pooling; the black bars are the mean "
                "per filter count.",
                plots.filter_effect(
                    [(r.filters, r.value, r.pooling) for r in results.rows if r.filters is not None],
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


def _importances(study: optuna.Study) -> dict[str, float] | None:
    """Importances of the parameters every completed trial has; conditional ones would be judged unfairly."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    shared = [name for name in (completed[0].params if completed else {}) if all(name in t.params for t in completed)]
    if not shared:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(study, params=shared)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return None
    return {name: float(v) for name, v in values.items()} or None


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


def _opt(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def render_html(
    results: StudyResults, answer: Headline, shown: list[Figure], notes: list[str], storage: str, explained: str = ""
) -> str:
    """The report as one HTML document; every figure is embedded, so the file stands alone."""
    label = results.metric_label
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(results.states.items()))
    untried = len(results.poolings) * len(results.dims) - len(results.cells)
    ranked = sorted(results.rows, key=lambda r: -r.value if results.maximize else r.value)[:10]
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
    )
    cell_table = _table(
        [
            "pooling",
            "embedding dim",
            "trials",
            f"mean {results.metric}",
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
        ["pooling", "trials", f"mean {results.metric}", "95% interval"],
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
        "dimensions tried so far have no trial yet.</p>"
        if untried > 0
        else ""
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
<p>Best combination first. The interval is a 95% t interval of the mean over the combination's trials; it
needs at least two trials.</p>
{cell_table}
{untried_html}
<h3>By pooling, over all dimensions</h3>
{pooling_table}
{"".join(figure_html)}
{explained}
{notes_html}
<p class="meta">Made by gapsearch from the study database; the per-trial curves, confusion matrices and models are
in the dashboard (gapsearch dashboard STUDY.yaml).</p>
</main></body></html>
"""


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    figures: list[Path]
    headline: Headline


def write_study_report(spec: StudySpec, storage_url: str, output: Path) -> ReportFiles:
    """``gapsearch report``: the report of the study ``spec`` names, read from ``storage_url``."""
    from gapsearch.masking import mask_url
    from gapsearch.storage import load_existing_study

    return write_report(load_existing_study(storage_url, spec.name), spec, output, storage=mask_url(storage_url))


def write_report(study: optuna.Study, spec: StudySpec, output: Path, *, storage: str) -> ReportFiles:
    """Write ``report.html`` and one PNG per figure into ``output`` (created if missing)."""
    results = collect(study, spec)
    answer = headline(results)
    shown, notes = figures(results, study)
    from gapsearch.report_explanations import RankedTrial, explanation_section

    ranked = sorted(results.rows, key=lambda r: -r.value if results.maximize else r.value)
    explained = explanation_section(
        study, spec, [RankedTrial(r.number, r.value, r.pooling) for r in ranked], results.metric
    )
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"-o: cannot create the folder {output}: {error.strerror}") from None
    paths = []
    for item in shown:
        path = output / item.name
        path.write_bytes(item.png)
        paths.append(path)
    page = output / "report.html"
    page.write_text(render_html(results, answer, shown, notes, storage, explained), encoding="utf-8")
    return ReportFiles(page, paths, answer)
