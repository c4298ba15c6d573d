"""The exact decomposition of a class's logit over the encoder steps, then over the tokens.

For a model :func:`~gapsearch.explain.structure.find_structure` accepts, the logit of class ``k`` is
``bias_k + sum over pooled channels c of w_ck * p_c``, and each pooled value ``p_c`` is a sum over
the real steps: ``h_tc / T`` (average), ``a_t * h_tc`` (attention) or ``h_tc`` at the one step that
wins channel ``c`` (max). So each (step, channel) gets an exact share of the logit, and the shares
plus the bias equal the logit. Step ``t`` of a channel read the tokens of its window. Through one
relu convolution over the embeddings (the builder's usual encoder) an active channel's value is
exactly its bias plus one term per kernel tap, so each term goes to the token its tap reads;
otherwise the share is split equally over the real tokens in that window (see :func:`token_rule`).
NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gapsearch.explain.structure import Segment, Structure

_TAP_TERMS = (
    "an active channel's value is its bias plus one term per kernel tap, so each tap's term goes to the token it "
    "reads and the bias is split equally over the real tokens of the window; an inactive channel gives nothing; "
    "padding gets nothing"
)
_ONE_CONVOLUTION = "one relu (or linear) convolution over the embeddings"
TAP_RULE = f"each pooling reads {_ONE_CONVOLUTION}: {_TAP_TERMS}"
WINDOW_RULE = (
    "each encoder step's share of the logit is split equally over the real (unpadded) tokens in the window of "
    "tokens that step reads: a convolution of kernel k and dilation d with padding 'same' reads d*(k-1)//2 "
    "tokens before the step and the rest of its d*(k-1) after it, 'causal' all of them before; stacked "
    "convolutions add their windows; without a convolution a step is its token; padding gets nothing"
)


def token_rule(structure: Structure) -> str:
    """How the steps' shares reach the tokens: the tap rule, the equal split, or each where it applies."""
    taps = [segment.conv is not None for segment in structure.segments]
    if all(taps):
        return TAP_RULE
    if not any(taps):
        return WINDOW_RULE
    return f"for the poolings that read {_ONE_CONVOLUTION}, {_TAP_TERMS}; for the others, {WINDOW_RULE}"


@dataclass(frozen=True)
class Decomposition:
    """The exact shares of one class's logit for a batch of id rows.

    Attributes:
        tokens: ``(batch, steps)``; token ``i``'s share; exactly 0 at padded positions.
        steps: ``(batch, steps)``; each encoder step's share, summed over its channels.
        bias: The class's bias in the head; ``tokens.sum(axis=1) + bias`` is the logit.
        winners: For each max pooling (by layer name), ``(batch, channels)``: the step that wins each channel.
    """

    tokens: np.ndarray
    steps: np.ndarray
    bias: float
    winners: dict[str, np.ndarray]


def class_column(structure: Structure, n_outputs: int, class_index: int) -> tuple[int, float]:
    """The head's output column and its sign for the logit of class ``class_index``.

    One sigmoid unit scores the second class; the first class's logit is its negative.
    """
    if structure.activation == "sigmoid" and n_outputs == 1:
        return 0, (1.0 if class_index == 1 else -1.0)
    return class_index, 1.0


@dataclass(frozen=True)
class AttentionParameters:
    """An AttentionPooling1D's weights and settings, as NumPy values."""

    hidden_kernel: np.ndarray
    hidden_bias: np.ndarray
    scorer_kernel: np.ndarray  # (units, heads)
    temperature: float = 1.0
    null_score: np.ndarray | None = None  # (heads,), with a null slot


def attention_weights(parameters: AttentionParameters, features: np.ndarray, real: np.ndarray) -> np.ndarray:
    """AttentionPooling1D's weights in NumPy, ``(batch, steps, heads)``: per head, a softmax of
    ``tanh(h W + b) v / temperature`` over the real steps (and the null slot, whose value is zero)."""
    x = np.where(real[..., None], features, 0.0)
    scores = np.tanh(x @ parameters.hidden_kernel + parameters.hidden_bias) @ parameters.scorer_kernel
    scores = np.where(real[..., None], scores / parameters.temperature, -np.inf)  # (batch, steps, heads)
    highest = np.max(scores, axis=1, keepdims=True)
    null = None if parameters.null_score is None else parameters.null_score[None, None, :] / parameters.temperature
    if null is not None:
        highest = np.maximum(highest, null)
    highest = np.where(np.isfinite(highest), highest, 0.0)
    exps = np.where(real[..., None], np.exp(scores - highest), 0.0)
    total = exps.sum(axis=1, keepdims=True)
    if null is not None:
        total = total + np.exp(null - highest)
    return exps / np.where(total > 0, total, 1.0)


def head_features(segment: Segment, features: np.ndarray) -> np.ndarray:
    """The pooling's input once per pooled channel: repeated head by head for multi-head attention."""
    heads = len(segment.windows) // features.shape[2]
    return np.tile(features, (1, 1, heads)) if heads > 1 else features


def segment_multipliers(
    segment: Segment,
    features: np.ndarray,
    real: np.ndarray,
    weights: np.ndarray,
    attention: AttentionParameters | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``m`` such that each (step, channel)'s share of the logit is ``m * features``, and the max pooling's winners.

    Args:
        segment: The pooling.
        features: Its input, ``(batch, steps, channels)``; for multi-head attention, once per head
            (:func:`head_features`).
        real: ``(batch, steps)`` booleans, true for real steps.
        weights: The head's weights of this pooling's channels for the class, ``(channels,)``, sign included.
        attention: The attention pooling's parameters.
    """
    features = np.where(real[..., None], features.astype(np.float64), 0.0)
    on_real = np.where(real[..., None], 1.0, 0.0)
    if segment.kind == "average":
        count = np.maximum(real.sum(axis=1), 1)[:, None, None]
        return on_real * weights / count, None
    if segment.kind == "attention":
        assert attention is not None, "attention pooling needs its scorer's weights"
        heads = attention.scorer_kernel.shape[1]
        single = features[:, :, : features.shape[2] // heads]
        alpha = attention_weights(attention, single, real)  # (batch, steps, heads)
        per_channel = np.repeat(alpha, single.shape[2], axis=2)  # head by head, like the pooled output
        return per_channel * weights * on_real, None
    filled = np.where(real[..., None], features, -np.inf)
    winners = np.argmax(filled, axis=1)  # (batch, channels); the first of equal values
    has_real = np.asarray(real.any(axis=1))
    chosen = np.zeros_like(features, dtype=bool)
    rows, channels = np.nonzero(np.broadcast_to(has_real[:, None], winners.shape))
    chosen[rows, winners[rows, channels], channels] = True
    return np.where(chosen, weights, 0.0), winners


def segment_shares(
    segment: Segment,
    features: np.ndarray,
    real: np.ndarray,
    weights: np.ndarray,
    attention: AttentionParameters | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each (step, channel)'s share of the logit through one pooling, and the max pooling's winners.

    Arguments as :func:`segment_multipliers`.
    """
    features = head_features(segment, features)
    multipliers, winners = segment_multipliers(segment, features, real, weights, attention)
    return multipliers * np.where(real[..., None], features.astype(np.float64), 0.0), winners


def conv_to_tokens(
    multipliers: np.ndarray,
    features: np.ndarray,
    real: np.ndarray,
    conv_input: np.ndarray,
    kernel: np.ndarray,
    segment: Segment,
) -> np.ndarray:
    """Token shares through one relu (or linear) ``Conv1D``: each tap's term goes to the token it reads.

    Where a channel is active its value is ``bias + sum over taps j of kernel[j] . x[t + offset_j]``,
    so its share ``m * value`` splits exactly into one term per tap, given to the token the tap
    reads, and the rest (the bias, taps on padding or outside the text, float rounding), split
    equally over the window's real tokens. An inactive channel's share is 0 and gives nothing.
    """
    values = np.where(real[..., None], features.astype(np.float64), 0.0)
    if multipliers.shape[2] != values.shape[2]:  # multi-head attention: one conv channel feeds every head
        multipliers = multipliers.reshape(*multipliers.shape[:2], -1, values.shape[2]).sum(axis=2)
    active = np.where(values != 0.0, multipliers, 0.0)
    inputs = np.where(real[..., None], conv_input.astype(np.float64), 0.0)
    length = real.shape[1]
    tokens = np.zeros(real.shape, dtype=np.float64)
    counted = np.zeros(real.shape, dtype=np.float64)
    for tap, offset in enumerate(segment.conv_offsets):
        terms = np.einsum("btc,btc->bt", active, _shifted(inputs, offset, length) @ kernel[tap].astype(np.float64))
        counted += terms
        tokens += _shifted(terms, -offset, length)  # step t's term belongs to token t + offset
    remainder = (active * values).sum(axis=2) - counted
    before, after = segment.windows[0]
    return np.where(real, tokens + spread_to_tokens(remainder, real, (int(before), int(after))), 0.0)


def spread_to_tokens(steps: np.ndarray, real: np.ndarray, window: tuple[int, int]) -> np.ndarray:
    """Split each step's share equally over the real tokens ``t - before .. t + after`` of its window."""
    before, after = window
    length = steps.shape[1]
    count = np.zeros_like(steps)
    for offset in range(-before, after + 1):
        count += _shifted(real.astype(np.float64), offset, length)
    share = np.where(real & (count > 0), steps / np.maximum(count, 1.0), 0.0)
    tokens = np.zeros_like(steps)
    for offset in range(-before, after + 1):
        # token t + offset receives step t's share
        tokens += _shifted(share, -offset, length)
    return np.where(real, tokens, 0.0)


def _shifted(values: np.ndarray, offset: int, length: int) -> np.ndarray:
    """``result[:, t] = values[:, t + offset]``, 0 outside the row."""
    result = np.zeros_like(values)
    if offset >= 0:
        result[:, : length - offset] = values[:, offset:]
    else:
        result[:, -offset:] = values[:, : length + offset]
    return result


def decompose(
    structure: Structure,
    features: dict[str, np.ndarray],
    real: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    class_index: int,
    attention: dict[str, AttentionParameters],
    convs: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Decomposition:
    """The exact shares of class ``class_index``'s logit.

    Args:
        structure: What :func:`~gapsearch.explain.structure.find_structure` found.
        features: Each pooling input layer's output, by layer name.
        real: ``(batch, steps)`` booleans from the token ids (id 0 is padding).
        kernel: The head's kernel, ``(pooled channels, outputs)``; ``bias`` its bias (or None).
        class_index: The class whose logit is decomposed.
        attention: Each attention pooling's scorer weights, by layer name.
        convs: For a pooling whose segment has a ``conv``: that convolution's input and kernel, by pooling
            name; then each tap's term goes to its token (:func:`conv_to_tokens`), else the equal split.
    """
    column, sign = class_column(structure, kernel.shape[1], class_index)
    weights = sign * kernel[:, column].astype(np.float64)
    steps = np.zeros(real.shape, dtype=np.float64)
    tokens = np.zeros(real.shape, dtype=np.float64)
    winners: dict[str, np.ndarray] = {}
    for segment in structure.segments:
        channels = len(segment.windows)
        raw = features[segment.features]
        values = head_features(segment, raw)
        multipliers, won = segment_multipliers(
            segment,
            values,
            real,
            weights[segment.offset : segment.offset + channels],
            attention.get(segment.pooling),
        )
        if won is not None:
            winners[segment.pooling] = won
        shares = multipliers * np.where(real[..., None], values.astype(np.float64), 0.0)
        steps += shares.sum(axis=2)
        if convs is not None and segment.pooling in convs:
            conv_input, conv_kernel = convs[segment.pooling]
            tokens += conv_to_tokens(multipliers, raw, real, conv_input, conv_kernel, segment)
            continue
        windows = np.asarray(segment.windows)
        for window in {tuple(w) for w in segment.windows}:
            in_window = np.all(windows == window, axis=1)
            per_step = shares[:, :, in_window].sum(axis=2)
            tokens += spread_to_tokens(per_step, real, (int(window[0]), int(window[1])))
    offset_bias = 0.0 if bias is None else sign * float(bias[column])
    return Decomposition(tokens, steps, offset_bias, winners)
