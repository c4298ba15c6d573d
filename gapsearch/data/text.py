"""From raw text to padded id sequences: standardize, tokenize, build the vocabulary, vectorize.

NumPy and plain Python only, so that every Keras backend trains on the same ids.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Literal

import numpy as np

from gapsearch.spec.data import TextSettings

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = ""
OOV_TOKEN = "[UNK]"

_MARKUP = re.compile(r"</?[A-Za-z][^<>]*>")
# Punctuation is anything but letters, digits and whitespace, except an apostrophe between two
# letters or digits: "don't" and "o'clock" stay one word, while quotes ('like this') and SST's
# detached clitics ("it 's" becomes "it s") lose theirs.
_PUNCTUATION = re.compile(r"[^\w\s']|_|(?<![^\W_])'|'(?![^\W_])")


def standardize(text: str, settings: TextSettings) -> str:
    """Normalizes one text as ``settings`` asks, before it is split into tokens.

    Markup tags (``<br />``, ``<i>``) and, with ``strip_punctuation``, punctuation marks become
    spaces, so that the words on either side stay apart. A right single quotation mark (U+2019)
    counts as an apostrophe. Letters with accents and digits are kept.
    """
    if settings.strip_markup:
        text = _MARKUP.sub(" ", text)
    if settings.lowercase:
        text = text.lower()
    if settings.strip_punctuation:
        text = _PUNCTUATION.sub(" ", text.replace("\u2019", "'"))
    return text


def tokenize(text: str) -> list[str]:
    """Splits a standardized text on runs of whitespace."""
    return text.split()


@dataclass(frozen=True)
class Vocabulary:
    """Token ids: 0 is padding, 1 is out-of-vocabulary, then the kept tokens, most frequent first.

    ``tokens[i]`` is the token of id ``i``; ``tokens[0]`` is ``""`` and ``tokens[1]`` is ``"[UNK]"``.
    """

    tokens: tuple[str, ...]
    _ids: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tokens[:2] != (PAD_TOKEN, OOV_TOKEN):
            raise ValueError(f"a vocabulary starts with {PAD_TOKEN!r}, {OOV_TOKEN!r}, but got {self.tokens[:2]}")
        object.__setattr__(self, "_ids", {token: i for i, token in enumerate(self.tokens[2:], start=2)})

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_tokens: int) -> Vocabulary:
        """The vocabulary of the (training) token lists, with at most ``max_tokens`` ids in all."""
        return cls.from_counts(Counter(chain.from_iterable(token_lists)), max_tokens)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], max_tokens: int) -> Vocabulary:
        """Keeps the ``max_tokens - 2`` most frequent tokens; ties go to the alphabetically first."""
        if max_tokens < 2:
            raise ValueError(f"max_tokens >= 2 must hold (padding and out-of-vocabulary ids), but got {max_tokens}")
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = [token for token, _ in ranked[: max_tokens - 2]]
        return cls((PAD_TOKEN, OOV_TOKEN, *kept))

    def extended(self, token_lists: Iterable[Sequence[str]], keep: Callable[[str], bool]) -> Vocabulary:
        """This vocabulary, then each token of ``token_lists`` outside it that ``keep`` accepts (most frequent
        first, ties to the alphabetically first): the same ids for the tokens it had."""
        counts = Counter(
            token
            for tokens in token_lists
            for token in tokens
            if token not in self._ids and token not in (PAD_TOKEN, OOV_TOKEN) and keep(token)
        )
        if not counts:
            return self
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return Vocabulary((*self.tokens, *(token for token, _ in ranked)))

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, tokens: Iterable[str]) -> list[int]:
        """The id of each token, :data:`OOV_ID` for tokens outside the vocabulary."""
        lookup = self._ids.get
        return [lookup(token, OOV_ID) for token in tokens]


def vectorize(
    token_lists: Sequence[Sequence[str]],
    vocabulary: Vocabulary,
    sequence_length: int,
    truncation: Literal["pre", "post"],
) -> np.ndarray:
    """Turns token lists into an int32 array of shape ``(len(token_lists), sequence_length)``.

    Shorter texts are padded with :data:`PAD_ID` at the end. Longer ones are cut: ``"post"`` keeps
    their first ``sequence_length`` tokens, ``"pre"`` their last.
    """
    if sequence_length < 1:
        raise ValueError(f"sequence_length >= 1 must hold, but got {sequence_length}")
    if truncation not in ("pre", "post"):
        raise ValueError(f"truncation must be 'pre' or 'post', but got {truncation!r}")
    ids = np.full((len(token_lists), sequence_length), PAD_ID, dtype=np.int32)
    for row, tokens in enumerate(token_lists):
        kept = tokens[:sequence_length] if truncation == "post" else tokens[-sequence_length:]
        ids[row, : len(kept)] = vocabulary.ids(kept)
    return ids


def length_percentiles(
    token_lists: Sequence[Sequence[str]], percentiles: Sequence[int] = (50, 90, 95, 99, 100)
) -> dict[int, int]:
    """For each percentile p, the smallest length that at least p% of the texts do not exceed.

    A ``sequence_length`` of ``result[95]`` leaves 95% of the texts uncut.
    """
    if not token_lists:
        raise ValueError("length_percentiles needs at least one text, but got none")
    lengths = np.fromiter((len(tokens) for tokens in token_lists), dtype=np.int64, count=len(token_lists))
    values = np.percentile(lengths, list(percentiles), method="inverted_cdf")
    return {int(p): int(v) for p, v in zip(percentiles, values, strict=True)}
