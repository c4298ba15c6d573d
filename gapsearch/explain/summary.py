"""What a trained model looks at, as one JSON document: written at training time, read by the report.

The document (the ``explanation.json`` artifact of each kept model) holds the method, each channel's
votes and top n-grams and each class's top n-grams over the validation split (up to
:data:`MAX_TEXTS` texts), and :data:`EXAMPLES` validation texts explained token by token. The
examples are the first validation texts of :data:`EXAMPLE_LENGTHS` tokens, so every trial of a
study explains the same texts and the report can set them side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gapsearch.data.text import PAD_ID

FORMAT = 1
MAX_TEXTS = 1000
EXAMPLES = 6
EXAMPLE_LENGTHS = (4, 40)


def example_rows(ids: np.ndarray, count: int = EXAMPLES) -> np.ndarray:
    """The indices of the first ``count`` rows whose length is within :data:`EXAMPLE_LENGTHS` (else the first rows)."""
    lengths = (np.asarray(ids) != PAD_ID).sum(axis=1)
    low, high = EXAMPLE_LENGTHS
    fitting = np.nonzero((lengths >= low) & (lengths <= high))[0][:count]
    return fitting if len(fitting) else np.arange(min(count, len(ids)))


def model_explanation(
    id_model: Any,
    vocabulary: Sequence[str],
    class_names: Sequence[str],
    x_validation: np.ndarray,
    y_validation: np.ndarray,
) -> dict[str, Any]:
    """The explanation document of a trained id model over its validation split.

    Args:
        id_model: The trained model over token ids.
        vocabulary: Its vocabulary's tokens, id order.
        class_names: The label of each class index.
        x_validation: The validation split's ids; ``y_validation`` its class ids.
    """
    from gapsearch.explain.channels import channel_report
    from gapsearch.explain.explainer import Explainer
    from gapsearch.explain.texts import header, id_tokens, record

    names = list(class_names)
    explainer = Explainer(id_model, len(names))
    ids = np.asarray(x_validation[:MAX_TEXTS])
    channels = channel_report(explainer, ids, id_tokens(ids, vocabulary), names)
    chosen = example_rows(np.asarray(x_validation))
    rows = np.asarray(x_validation)[chosen]
    examples = []
    for index, row, tokens, item in zip(
        chosen, rows, id_tokens(rows, vocabulary), explainer.explain(rows), strict=True
    ):
        entry = record(" ".join(tokens), tokens, row, item, names)
        entry["row"] = int(index)
        entry["label"] = names[int(np.asarray(y_validation)[index])]
        examples.append(entry)
    return {"format": FORMAT, **header(explainer), "class_names": names, "channels": channels, "examples": examples}
