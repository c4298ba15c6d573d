"""Seeded, stratified hold-out splits."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def stratified_split(labels: Sequence[str], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Splits example indices into (rest, held_out), each class held out in proportion.

    Each class contributes ``round(fraction * count)`` of its examples to ``held_out`` (halves round
    up), but at least one and at most ``count - 1`` when it has two or more examples, so that every
    class stays on both sides; a class with a single example stays in ``rest``. Which examples are
    held out is a function of ``seed`` and the labels only.

    Args:
        labels: The label of each example.
        fraction: Share to hold out, in [0, 1).
        seed: Seed of the random choice.

    Returns:
        Two sorted int64 arrays of indices into ``labels`` that together cover each index once.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"0 <= fraction < 1 must hold, but got fraction={fraction}")
    label_array = np.asarray(labels, dtype=object)
    rng = np.random.default_rng(seed)
    held_out = [np.empty(0, dtype=np.int64)]
    for label in sorted(set(labels)):
        members = np.flatnonzero(label_array == label)
        count = len(members)
        n_held = math.floor(fraction * count + 0.5)
        if fraction > 0 and count >= 2:
            n_held = min(max(n_held, 1), count - 1)
        elif count < 2:
            n_held = 0
        held_out.append(rng.permutation(members)[:n_held])
    held = np.sort(np.concatenate(held_out))
    rest = np.setdiff1d(np.arange(len(label_array), dtype=np.int64), held, assume_unique=True)
    return rest, held


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """The fold (0 to ``folds - 1``) of each example, each class spread evenly over the folds.

    Each class's examples are shuffled with ``seed`` and dealt round-robin, starting where the
    previous class stopped, so fold sizes differ by at most one.

    Raises:
        ValueError: ``folds`` < 2.
    """
    if folds < 2:
        raise ValueError(f"folds >= 2 must hold, but got folds={folds}")
    label_array = np.asarray(labels, dtype=object)
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(label_array), dtype=np.int64)
    start = 0
    for label in sorted(set(labels)):
        members = rng.permutation(np.flatnonzero(label_array == label))
        assignment[members] = (start + np.arange(len(members))) % folds
        start = (start + len(members)) % folds
    return assignment
