"""Explaining raw texts with an exported :class:`~gapsearch.models.text_classifier.TextClassifier`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gapsearch.errors import UserError


def explain_texts(model: Any, texts: Sequence[str], class_name: str | None = None) -> dict[str, Any]:
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
    for text, row, item in zip(texts, ids, rows, strict=True):
        tokens = tokenize(standardize(str(text), model.text_settings))
        length = model.sequence_length
        kept = tokens[:length] if model.text_settings.truncation == "post" else tokens[-length:]
        records.append(
            {
                "text": text,
                "predicted": names[item.predicted_index],
                "probabilities": {n: float(p) for n, p in zip(names, item.probabilities, strict=True)},
                "class": names[item.class_index],
                "score": item.score,
                "bias": item.bias,
                "tokens": [
                    {"token": token, "in_vocabulary": int(row[i]) != 1, "contribution": float(item.contributions[i])}
                    for i, token in enumerate(kept)
                ],
                "cut_tokens": len(tokens) - len(kept),
            }
        )
    return {"method": explainer.method, "rule": explainer.rule, "windows": explainer.windows(), "texts": records}


def render(result: dict[str, Any], fmt: str) -> str:
    """The explanation as JSON, or as a table of each token and its contribution."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False)
    lines = [f"method: {result['rule']}"]
    for number, record in enumerate(result["texts"], start=1):
        bias = "" if record["bias"] is None else f" = bias {record['bias']:+.4f} + the tokens' sum"
        lines.append(
            f"text {number}: predicted {record['predicted']} ({record['probabilities'][record['predicted']]:.4f}); "
            f"score of {record['class']}: {record['score']:+.4f}{bias}"
        )
        if not record["tokens"]:
            lines.append("  (empty: no tokens)")
        for token in record["tokens"]:
            lines.append(f"  {token['contribution']:+9.4f}  {token['token']}")
    return "\n".join(lines)
