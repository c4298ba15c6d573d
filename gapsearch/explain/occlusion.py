"""The fallback for models the exact decomposition does not cover: occlusion, one token at a time.

A token's contribution is the class's score on the text minus its score with that token replaced
by padding (id 0), which the padding mask hides from the encoder and the pooling. It needs nothing
but forward passes, so it runs on every Keras backend and for any layer. The contributions do not
add up to the score: interactions between tokens are counted in neither or in both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gapsearch.data.text import PAD_ID

OCCLUSION_RULE = (
    "occlusion: a token's contribution is the class score of the text minus the class score with that one token "
    "replaced by padding; the contributions need not add up to the score"
)


def occlusion(
    scores: Callable[[np.ndarray], np.ndarray], ids: np.ndarray, class_index: np.ndarray, batch_size: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Each real token's occlusion contribution to its row's class score.

    Args:
        scores: Token ids ``(rows, steps)`` to class scores ``(rows, classes)``.
        ids: The texts' ids, ``(batch, steps)``.
        class_index: The class explained, per row.
        batch_size: Rows per forward pass.

    Returns:
        The contributions ``(batch, steps)`` (0 at padding) and the unoccluded scores ``(batch,)``.
    """
    rows = [ids]
    owners = [np.arange(len(ids))]
    positions = [np.full(len(ids), -1)]
    for row, position in zip(*np.nonzero(ids != PAD_ID), strict=True):
        occluded = ids[row].copy()
        occluded[position] = PAD_ID
        rows.append(occluded[None])
        owners.append(np.array([row]))
        positions.append(np.array([position]))
    every = np.concatenate(rows)
    owner = np.concatenate(owners)
    where = np.concatenate(positions)
    values = np.concatenate([scores(every[i : i + batch_size]) for i in range(0, len(every), batch_size)])
    picked = values[np.arange(len(every)), class_index[owner]]
    full = picked[: len(ids)]
    contributions = np.zeros(ids.shape, dtype=np.float64)
    occluded_rows = where >= 0
    contributions[owner[occluded_rows], where[occluded_rows]] = full[owner[occluded_rows]] - picked[occluded_rows]
    return contributions, full
