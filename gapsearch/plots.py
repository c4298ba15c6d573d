"""Figures people look at: a trial's learning curves and confusion matrix, and the study report's plots.

Matplotlib's object API on the Agg canvas only (no pyplot, no global state), so figures can be made
in worker processes and on machines without a display. Every function returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: One colour per pooling type, the same in every figure.
POOLING_COLORS = {"average": "#1f77b4", "max": "#d62728", "attention": "#2ca02c", "average_max": "#9467bd"}
_OTHER_COLORS = ("#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def color_of(value: Any, index: int = 0) -> str:
    return POOLING_COLORS.get(str(value), _OTHER_COLORS[index % len(_OTHER_COLORS)])


def _integer_ticks():  # noqa: ANN202 - a matplotlib Locator
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def new_figure(
    width: float = 6.4, height: float = 4.0, *, layout: Literal["constrained", "tight"] | None = "constrained"
) -> Figure:
    """An Agg figure. The constrained layout solver is the default; figures drawn in every trial pass
    ``layout=None`` and set their margins themselves, which skips the solver's work on every draw."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, with zlib's fastest level: a slightly larger file, written sooner."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _style(axes: Axes) -> None:
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)


def learning_curves(history: Mapping[str, Sequence[float]], *, best_epoch: int, title: str) -> bytes:
    """Training and validation curves per epoch, one panel per metric, the best epoch marked."""
    bases = [key for key in history if not key.startswith("val_") and f"val_{key}" in history]
    bases += [key.removeprefix("val_") for key in history if key.startswith("val_") and key[4:] not in history]
    panels = max(len(bases), 1)
    width = 3.3 * panels
    figure = new_figure(width, 3.2, layout=None)
    # Fixed margins in inches (room for the title, the tick labels and the epoch label).
    figure.subplots_adjust(left=0.5 / width, right=1 - 0.15 / width, bottom=0.16, top=0.8, wspace=0.3)
    axes_list = figure.subplots(1, panels, squeeze=False)[0]
    for axes, base in zip(axes_list, bases, strict=False):
        for key, label, style in ((base, "training", "--"), (f"val_{base}", "validation", "-")):
            if key in history:
                values = history[key]
                axes.plot(range(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        axes.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
        axes.set_xlabel("epoch")
        axes.set_title(base)
        axes.xaxis.set_major_locator(_integer_ticks())
        _style(axes)
    axes_list[0].legend(fontsize="small")
    figure.suptitle(title)
    return png_bytes(figure)


def confusion_matrix(counts: np.ndarray, class_names: Sequence[str], *, title: str) -> bytes:
    """Counts of true (rows) against predicted (columns) classes, each cell annotated."""
    size = max(3.2, 0.55 * len(class_names) + 2.2)
    width = size + 0.8
    labels = max(len(str(name)) for name in class_names) if len(class_names) else 1
    left = 0.45 + 0.07 * min(labels, 20)  # inches for the class names and the "true" label
    figure = new_figure(width, size, layout=None)
    figure.subplots_adjust(left=left / width, right=1 - 0.1 / width, bottom=(0.45 + left) / size / 1.6, top=0.88)
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = range(len(class_names))
    axes.set_xticks(ticks, [str(n) for n in class_names], rotation=45 if len(class_names) > 4 else 0)
    axes.set_yticks(ticks, [str(n) for n in class_names])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), count in np.ndenumerate(counts):
        axes.text(column, row, str(count), ha="center", va="center", color="white" if count > threshold else "black")
    axes.set_title(title)
    return png_bytes(figure)


def _ordered(values: Sequence[Any]) -> list[Any]:
    """Distinct values in order: numbers ascending, strings by the pooling order, then alphabetically."""
    distinct = list(dict.fromkeys(values))
    order = list(POOLING_COLORS)
    return sorted(
        distinct,
        key=lambda v: (
            (0, v, "") if isinstance(v, (int, float)) else (1, order.index(v) if v in order else len(order), str(v))
        ),
    )


def cell_heatmap(
    cells: Mapping[tuple[str, Any], tuple[float, float | None, int]],
    poolings: Sequence[str],
    dims: Sequence[Any],
    *,
    metric_label: str,
    maximize: bool,
) -> bytes:
    """Mean metric per (pooling, embedding_dim) cell, annotated with ± the 95% half-interval and the count."""
    figure = new_figure(max(1.5 * len(dims) + 2.6, 5.0), 0.9 * len(poolings) + 1.6)
    axes = figure.subplots()
    grid = np.full((len(poolings), len(dims)), np.nan)
    for (pooling, dim), (mean, _, _) in cells.items():
        grid[poolings.index(pooling), dims.index(dim)] = mean
    cmap = "viridis" if maximize else "viridis_r"
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto")
    axes.set_facecolor("#eeeeee")
    figure.colorbar(image, ax=axes, label=f"mean {metric_label}")
    axes.set_xticks(range(len(dims)), [str(d) for d in dims])
    axes.set_yticks(range(len(poolings)), list(poolings))
    axes.set_xlabel("embedding dimension")
    axes.set_ylabel("pooling")
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (row, column), mean in np.ndenumerate(grid):
        if not np.isfinite(mean):
            axes.text(column, row, "no trials", ha="center", va="center", color="#777777", fontsize="small")
            continue
        _, half, n = cells[(poolings[row], dims[column])]
        text = f"{mean:.4f}" + (f"\n± {half:.4f}" if half is not None else "") + f"\nn={n}"
        dark = (mean < middle) == maximize
        axes.text(column, row, text, ha="center", va="center", fontsize="small", color="white" if dark else "black")
    axes.set_title(f"Mean {metric_label}, ± half the 95% interval")
    return png_bytes(figure)


def cell_means(
    values: Mapping[tuple[str, Any], Sequence[float]],
    intervals: Mapping[tuple[str, Any], tuple[float, float | None, float | None]],
    poolings: Sequence[str],
    dims: Sequence[Any],
    *,
    metric_label: str,
) -> bytes:
    """Every trial as a dot and each cell's mean with its 95% interval, by embedding dimension, per pooling."""
    figure = new_figure(7.0, 4.2)
    axes = figure.subplots()
    width = 0.7 / max(len(poolings), 1)
    for index, pooling in enumerate(poolings):
        offset = (index - (len(poolings) - 1) / 2) * width
        color = color_of(pooling, index)
        xs: list[float] = []
        means: list[float] = []
        errors: list[list[float]] = [[], []]
        for position, dim in enumerate(dims):
            key = (pooling, dim)
            if key not in values:
                continue
            points = values[key]
            axes.scatter([position + offset] * len(points), points, color=color, alpha=0.35, s=14, linewidths=0)
            mean, low, high = intervals[key]
            xs.append(position + offset)
            means.append(mean)
            errors[0].append(mean - low if low is not None else 0.0)
            errors[1].append(high - mean if high is not None else 0.0)
        if xs:
            axes.errorbar(xs, means, yerr=errors, fmt="o", color=color, capsize=4, label=pooling, markersize=6)
    axes.set_xticks(range(len(dims)), [str(d) for d in dims])
    axes.set_xlabel("embedding dimension")
    axes.set_ylabel(metric_label)
    axes.legend(title="pooling", fontsize="small")
    axes.set_title("Each trial (dots) and the mean with its 95% interval (bars)")
    _style(axes)
    return png_bytes(figure)


def accuracy_vs_cost(points: Sequence[tuple[float, float | None, float | None, str]], *, metric_label: str) -> bytes:
    """The metric against trainable parameters and against seconds per epoch, coloured by pooling."""
    figure = new_figure(9.0, 3.8)
    left, right = figure.subplots(1, 2, sharey=True)
    poolings = _ordered([p[3] for p in points])
    for index, pooling in enumerate(poolings):
        mine = [p for p in points if p[3] == pooling]
        color = color_of(pooling, index)
        with_params = [(p[1], p[0]) for p in mine if p[1] is not None]
        with_seconds = [(p[2], p[0]) for p in mine if p[2] is not None]
        if with_params:
            left.scatter(*zip(*with_params, strict=True), color=color, label=pooling, alpha=0.8, s=22)
        if with_seconds:
            right.scatter(*zip(*with_seconds, strict=True), color=color, label=pooling, alpha=0.8, s=22)
    left.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    left.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    left.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel("trainable parameters (log scale)")
    right.set_xlabel("seconds per training epoch")
    left.set_ylabel(metric_label)
    left.legend(title="pooling", fontsize="small")
    for axes in (left, right):
        _style(axes)
    figure.suptitle(f"{metric_label} against cost; each dot is a trial")
    return png_bytes(figure)


def importances(values: Mapping[str, float]) -> bytes:
    """Horizontal bars of parameter importances, the most important on top."""
    names = list(values)[::-1]
    figure = new_figure(6.0, 0.45 * len(names) + 1.4)
    axes = figure.subplots()
    axes.barh(names, [values[n] for n in names], color="#4c72b0")
    for y, name in enumerate(names):
        axes.text(values[name], y, f" {values[name]:.2f}", va="center", fontsize="small")
    axes.set_xlabel("importance (share of the metric's variation, Optuna's PED-ANOVA)")
    axes.set_xlim(0, max(max(values.values(), default=0) * 1.2, 0.1))
    _style(axes)
    axes.set_title("Which hyperparameters mattered")
    return png_bytes(figure)


def optimization_history(
    numbers: Sequence[int], values: Sequence[float], *, metric_label: str, maximize: bool
) -> bytes:
    """Each completed trial's value in order, and the best so far."""
    figure = new_figure(7.0, 3.6)
    axes = figure.subplots()
    axes.scatter(numbers, values, color="#4c72b0", s=18, label="trial", zorder=3)
    best = np.maximum.accumulate(values) if maximize else np.minimum.accumulate(values)
    axes.step(numbers, best, where="post", color="#d62728", label="best so far")
    axes.set_xlabel("trial number")
    axes.set_ylabel(metric_label)
    axes.xaxis.set_major_locator(_integer_ticks())
    axes.legend(fontsize="small")
    _style(axes)
    axes.set_title("Optimization history")
    return png_bytes(figure)


def filter_effect(points: Sequence[tuple[int, float, str]], *, metric_label: str) -> bytes:
    """The metric by convolution filter count: each trial, coloured by pooling, and the mean per count."""
    figure = new_figure(6.4, 3.8)
    axes = figure.subplots()
    poolings = _ordered([p[2] for p in points])
    counts = _ordered([p[0] for p in points])
    for index, pooling in enumerate(poolings):
        mine = [(counts.index(f), v) for f, v, p in points if p == pooling]
        jitter = (index - (len(poolings) - 1) / 2) * 0.08
        axes.scatter(
            [x + jitter for x, _ in mine],
            [v for _, v in mine],
            color=color_of(pooling, index),
            s=22,
            alpha=0.8,
            label=pooling,
        )
    means = [float(np.mean([v for f, v, _ in points if f == count])) for count in counts]
    axes.plot(range(len(counts)), means, color="black", marker="_", markersize=18, linewidth=1, label="mean")
    axes.set_xticks(range(len(counts)), [str(c) for c in counts])
    axes.set_xlabel("convolution filters")
    axes.set_ylabel(metric_label)
    axes.legend(title="pooling", fontsize="small")
    _style(axes)
    axes.set_title("Effect of the filter count")
    return png_bytes(figure)
