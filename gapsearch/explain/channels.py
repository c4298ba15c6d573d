"""Which channels vote for which class, and which n-grams of a set of texts drive each channel and class.

A channel is one pooled value the linear head reads. Its *votes* are its weights in the head, one
per class (with one sigmoid unit, the first class's vote is minus the second's). Over a set of
texts, a channel's *top n-grams* are the windows of tokens at the step where the channel is highest
in each text (for max pooling: the winning window, whose value is the pooled one); a class's *top
n-grams* are the windows whose steps add most to the class's logit, summed over the texts, by the
exact decomposition of :mod:`gapsearch.explain.decomposition`. NumPy only; Keras runs the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gapsearch.data.text import PAD_ID
from gapsearch.explain.decomposition import class_column, head_features, segment_shares

if TYPE_CHECKING:
    from gapsearch.explain.explainer import Explainer

TOP_PER_CHANNEL = 5
TOP_PER_CLASS = 8


def ngram(tokens: Sequence[str], step: int, window: Sequence[int]) -> str:
    """The real tokens of the window ``step - before .. step + after``, joined by spaces."""
    before, after = int(window[0]), int(window[1])
    return " ".join(tokens[max(0, step - before) : step + after + 1])


def channel_votes(explainer: Explainer, class_names: Sequence[str]) -> np.ndarray:
    """``(channels, classes)``: each pooled channel's weight in the head for each class's logit."""
    assert explainer.structure is not None
    kernel, _ = explainer.head_weights()
    columns = [class_column(explainer.structure, kernel.shape[1], k) for k in range(len(class_names))]
    return np.stack([sign * kernel[:, column] for column, sign in columns], axis=1)


def channel_report(
    explainer: Explainer,
    ids: np.ndarray,
    tokens: Sequence[Sequence[str]],
    class_names: Sequence[str],
    *,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Each channel's votes and top n-grams over ``ids``, and each class's top n-grams.

    Args:
        explainer: The model's explainer; channels need its exact structure.
        ids: The texts' token ids, ``(texts, steps)``, padded with 0 at the end.
        tokens: Each text's tokens at its real positions (what ``ids`` encode, out-of-vocabulary words included).
        class_names: The label of each class index.

    Returns:
        ``{"available": False, "reason": ...}`` for a model without an exact structure, else
        ``{"available": True, "texts": N, "channels": [...], "classes": {name: [...]}}``.
    """
    if explainer.structure is None:
        return {"available": False, "reason": explainer.reason, "texts": len(ids), "channels": [], "classes": {}}
    votes = channel_votes(explainer, class_names)
    segments = explainer.structure.segments
    owners = [(segment, local) for segment in segments for local in range(len(segment.windows))]
    by_channel: list[dict[str, float]] = [{} for _ in owners]
    by_class = _NgramTotals(len(class_names))
    for start in range(0, len(ids), batch_size):
        batch = np.asarray(ids[start : start + batch_size])
        texts = tokens[start : start + batch_size]
        real = batch != PAD_ID
        features = explainer.features(batch)
        for segment in segments:
            pooled_input = head_features(segment, features[segment.features])
            values = np.where(real[..., None], pooled_input.astype(np.float64), -np.inf)
            _collect_channels(segment, values, real, texts, by_channel)
            # The multipliers are linear in the head's weights: one pass with weights 1 serves every class.
            unit, _ = segment_shares(
                segment,
                features[segment.features],
                real,
                np.ones(len(segment.windows)),
                explainer.attention.get(segment.pooling),
            )
            segment_votes = votes[segment.offset : segment.offset + len(segment.windows)]
            windows = np.asarray(segment.windows)
            for window in {tuple(w) for w in segment.windows}:
                chosen = np.all(windows == window, axis=1)
                per_step = np.einsum("btc,ck->kbt", unit[:, :, chosen], segment_votes[chosen])  # (classes, b, t)
                by_class.add(texts, real, window, per_step)
    channels = []
    for index, ((segment, local), found) in enumerate(zip(owners, by_channel, strict=True)):
        top = sorted(found.items(), key=lambda item: -item[1])[:TOP_PER_CHANNEL]
        channels.append(
            {
                "channel": index,
                "pooling": segment.kind,
                "layer": segment.pooling,
                "window": list(segment.windows[local]),
                "votes": {name: float(votes[index, k]) for k, name in enumerate(class_names)},
                "votes_for": class_names[int(np.argmax(votes[index]))],
                "top": [{"ngram": text, "activation": value} for text, value in top],
            }
        )
    classes = {name: by_class.top(k, TOP_PER_CLASS) for k, name in enumerate(class_names)}
    return {"available": True, "texts": len(ids), "channels": channels, "classes": classes}


def _collect_channels(
    segment: Any, values: np.ndarray, real: np.ndarray, texts: Sequence[Sequence[str]], found: list[dict[str, float]]
) -> None:
    """Each channel's highest step in each text with real tokens, kept by n-gram (its highest value)."""
    rows = np.nonzero(real.any(axis=1))[0]
    if len(rows) == 0:
        return
    steps = np.argmax(values[rows], axis=1)  # (rows, channels); for max pooling, the winning step
    highest = np.take_along_axis(values[rows], steps[:, None, :], axis=1)[:, 0, :]
    keep = min(len(rows), 4 * TOP_PER_CHANNEL)  # the batch's best rows per channel; enough for the top
    channel_offset = segment.offset
    for local, window in enumerate(segment.windows):
        chosen = np.argpartition(-highest[:, local], keep - 1)[:keep]
        target = found[channel_offset + local]
        for row in chosen:
            text = ngram(texts[rows[row]], int(steps[row, local]), window)
            value = float(highest[row, local])
            if value > target.get(text, -np.inf):
                target[text] = value


class _NgramTotals:
    """Each n-gram's summed share of every class's logit, and how often it occurs, over batches of steps."""

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes
        self.index: dict[tuple[str, ...], int] = {}
        self.keys: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def add(
        self, texts: Sequence[Sequence[str]], real: np.ndarray, window: Sequence[int], per_step: np.ndarray
    ) -> None:
        """Add each real step's share (``per_step``: ``(classes, batch, steps)``) to the n-gram of its window."""
        before, after = int(window[0]), int(window[1])
        rows, steps = np.nonzero(real)
        keys = np.fromiter(
            (
                self.index.setdefault(tuple(texts[row][max(0, step - before) : step + after + 1]), len(self.index))
                for row, step in zip(rows.tolist(), steps.tolist(), strict=True)
            ),
            dtype=np.int64,
            count=len(rows),
        )
        self.keys.append(keys)
        self.values.append(per_step[:, rows, steps])

    def top(self, class_index: int, count: int) -> list[dict[str, Any]]:
        """The ``count`` n-grams with the largest summed share of the class's logit."""
        if not self.keys:
            return []
        keys = np.concatenate(self.keys)
        totals = np.bincount(
            keys, weights=np.concatenate([v[class_index] for v in self.values]), minlength=len(self.index)
        )
        seen = np.bincount(keys, minlength=len(self.index))
        names = list(self.index)
        best = np.argsort(-totals, kind="stable")[:count]
        return [{"ngram": " ".join(names[i]), "share": float(totals[i]), "count": int(seen[i])} for i in best]


def model_channels(model: Any, texts: Sequence[str]) -> tuple[dict[str, Any], str]:
    """``gapsearch explain MODEL --channels``: the channel report of an exported model, and what it was read over.

    The n-grams are read over ``texts``; without texts, over the model's own vocabulary, each word
    as a text of its own (so each channel's top n-grams are single words).

    Raises:
        UserError: the model has no channels that a linear head reads (then only occlusion explains it).
    """
    from gapsearch.errors import UserError
    from gapsearch.explain.explainer import Explainer
    from gapsearch.explain.texts import kept_tokens

    names = list(model.class_names)
    explainer = Explainer(model.classifier, len(names))
    if explainer.structure is None:
        raise UserError(
            f"--channels: this model's pooled channels do not feed a linear head ({explainer.reason}); "
            "explain texts instead (occlusion)"
        )
    if texts:
        report = channel_report(explainer, model.vectorize(list(texts)), kept_tokens(model, texts), names)
        return report, f"{len(texts)} given text{'s' if len(texts) != 1 else ''}"
    words = list(model.vocabulary.tokens[2:])  # after padding and [UNK]
    ids = np.full((len(words), model.sequence_length), PAD_ID, dtype=np.int32)
    ids[:, 0] = np.arange(2, len(words) + 2)
    report = channel_report(explainer, ids, [[word] for word in words], names)
    return report, f"the model's vocabulary, one word at a time ({len(words)} words; --input FILE reads real texts)"
