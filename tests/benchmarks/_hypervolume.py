"""The exact hypervolume of a two-objective front, for the benchmarks.

Optuna's own (``optuna._hypervolume``) is private and ``optuna.visualization.plot_hypervolume_history``
returns a figure, not numbers; in two dimensions the exact value is a short sweep, so it lives here.
"""

from __future__ import annotations

from collections.abc import Iterable


def hypervolume_2d(points: Iterable[tuple[float, float]], reference: tuple[float, float]) -> float:
    """The area that ``points`` dominate inside the box up to ``reference``, both objectives minimized.

    Sweeping by the first objective, each point that lowers the best second objective so far adds the
    slab from it to the reference; points at or beyond the reference, and dominated points, add nothing.
    """
    inside = sorted((a, b) for a, b in points if a < reference[0] and b < reference[1])
    area, ceiling = 0.0, reference[1]
    for a, b in inside:
        if b < ceiling:
            area += (reference[0] - a) * (ceiling - b)
            ceiling = b
    return area
