"""Explaining texts with a trained model: raw texts through an exported model, or id rows at training time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gapsearch.data.text import OOV_ID, PAD_ID
from gapsearch.errors import UserError

if TYPE_CHECKING:
    from gapsearch.explain.explainer import Explainer, RowExplanation
    from gapsearch.models.text_classifier import TextClassifier


def kept_tokens(model: TextClassifier, texts: Sequence[str]) -> list[list[str]]:
    """Each text's tokens that reach the model (after standardizing and cutting), in id order."""
    from gapsearch.data.text import standardize, tokenize

    length = model.sequence_length
    kept = []
    for text in texts:
        tokens = tokenize(standardize(str(text), model.text_settings))
        kept.append(tokens[:length] if model.text_settings.truncation == "post" else tokens[-length:])
    return kept


def record(
    text: str, tokens: Sequence[str], ids: np.ndarray, item: RowExplanation, names: Sequence[str]
) -> dict[str, Any]:
    """One explained text as JSON-ready values: the prediction, the score explained and each token's share."""
    return {
        "text": text,
        "predicted": names[item.predicted_index],
        "probabilities": {n: float(p) for n, p in zip(names, item.probabilities, strict=True)},
        "class": names[item.class_index],
        "score": item.score,
        "bias": item.bias,
        "tokens": [
            {"token": token, "in_vocabulary": int(ids[i]) != OOV_ID, "contribution": float(item.contributions[i])}
            for i, token in enumerate(tokens)
        ],
    }


def header(explainer: Explainer) -> dict[str, Any]:
    """What every explanation states: the method, its rule and the encoder's token windows."""
    return {"method": explainer.method, "rule": explainer.rule, "windows": explainer.windows()}


def explain_texts(model: TextClassifier, texts: Sequence[str], class_name: str | None = None) -> dict[str, Any]:
    """Each text's predicted class and each kept token's contribution to the explained class's score."""
    from gapsearch.data.text import standardize, tokenize
    from gapsearch.explain.explainer import Explainer

    names = list(model.class_names)
    if class_name is not None and class_name not in names:
        raise UserError(f"--class: {class_name!r} is not a class of this model; its classes are {', '.join(names)}")
    explainer = Explainer(model.classifier, len(names))
    ids = model.vectorize(list(texts))
    rows = explainer.explain(ids, None if class_name is None else names.index(class_name))
    records = []
    for text, kept, row, item in zip(texts, kept_tokens(model, texts), ids, rows, strict=True):
        entry = record(text, kept, row, item, names)
        entry["cut_tokens"] = len(tokenize(standardize(str(text), model.text_settings))) - len(kept)
        records.append(entry)
    return {**header(explainer), "texts": records}


def id_tokens(ids: np.ndarray, vocabulary: Sequence[str]) -> list[list[str]]:
    """The tokens of id rows (``[UNK]`` for words outside the vocabulary), padding left out."""
    return [[vocabulary[int(i)] for i in row[row != PAD_ID]] for row in np.asarray(ids)]
