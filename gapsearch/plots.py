"""Figures people look at: a trial's learning curves and confusion matrix, and the study report's plots.

Matplotlib's object API on the Agg canvas only (no pyplot, no global state), so figures can be made
in worker processes and on machines without a display. Every function returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: One colour per pooling type, the same in every figure.
POOLING_COLORS = {"average": "#1f77b4", "max": "#d62728", "attention": "#2ca02c", "average_max": "#9467bd"}
_OTHER_COLORS = ("#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def color_of(value: Any, index: int = 0) -> str:
    return POOLING_COLORS.get(str(value), _OTHER_COLORS[index % len(_OTHER_COLORS)])


def new_figure(width: float = 6.4, height: float = 4.0) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _style(axes: Axes) -> None:
    axes.grid(True, alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)


def learning_curves(history: Mapping[str, Sequence[float]], *, best_epoch: int, title: str) -> bytes:
    """Training and validation curves per epoch, one panel per metric, the best epoch marked."""
    bases = [key for key in history if not key.startswith("val_") and f"val_{key}" in history]
    bases += [key.removeprefix("val_") for key in history if key.startswith("val_") and key[4:] not in history]
    figure = new_figure(3.3 * max(len(bases), 1), 3.2)
    axes_list = figure.subplots(1, max(len(bases), 1), squeeze=False)[0]
    for axes, base in zip(axes_list, bases, strict=False):
        for key, label, style in ((base, "training", "--"), (f"val_{base}", "validation", "-")):
            if key in history:
                values = history[key]
                axes.plot(range(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        axes.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
        axes.set_xlabel("epoch")
        axes.set_title(base)
        axes.xaxis.get_major_locator().set_params(integer=True)
        _style(axes)
    axes_list[0].legend(fontsize="small")
    figure.suptitle(title)
    return png_bytes(figure)


def confusion_matrix(counts: np.ndarray, class_names: Sequence[str], *, title: str) -> bytes:
    """Counts of true (rows) against predicted (columns) classes, each cell annotated."""
    size = max(3.2, 0.55 * len(class_names) + 2.2)
    figure = new_figure(size + 0.8, size)
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
