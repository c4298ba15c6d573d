"""Explaining an id model: the exact decomposition where the structure allows it, else occlusion.

:class:`Explainer` reads the structure once, builds the sub-models it needs (the pooling inputs,
the head's input) and turns batches of token ids into per-token contributions to a class's logit.
Keras is used only to run the model (any backend); the arithmetic is NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gapsearch.data.text import PAD_ID
from gapsearch.explain.decomposition import AttentionParameters, class_column, decompose, token_rule
from gapsearch.explain.occlusion import OCCLUSION_RULE, occlusion
from gapsearch.explain.structure import NotExact, Structure, find_structure


@dataclass(frozen=True)
class RowExplanation:
    """One id row explained: the class explained, its logit, and each position's contribution."""

    class_index: int
    predicted_index: int
    probabilities: np.ndarray  # one per class
    score: float  # the class's logit (exact) or class score (occlusion)
    bias: float | None  # exact only: score = bias + contributions.sum()
    contributions: np.ndarray  # (steps,), 0 at padding


class Explainer:
    """Per-token contributions for a Keras id model (token ids in, class probabilities out).

    Args:
        id_model: The functional model over int32 ids (``TextClassifier.classifier``).
        n_classes: Number of class names.
    """

    def __init__(self, id_model: Any, n_classes: int) -> None:
        import keras

        self.id_model = id_model
        self.n_classes = n_classes
        found = find_structure(id_model)
        self.structure: Structure | None = found if isinstance(found, Structure) else None
        self.reason: str | None = found.reason if isinstance(found, NotExact) else None
        output = id_model.layers[-1]
        self._head = output if isinstance(output, keras.layers.Dense) else None
        wanted = []
        if self._head is not None:
            wanted.append(self._head.input)
        if self.structure is not None:
            conv_inputs = [s.conv_input for s in self.structure.segments if s.conv_input is not None]
            self._feature_names = list(dict.fromkeys([s.features for s in self.structure.segments] + conv_inputs))
            wanted.extend(id_model.get_layer(name).output for name in self._feature_names)
            self._conv_kernels = {
                s.pooling: np.asarray(id_model.get_layer(s.conv).get_weights()[0], dtype=np.float64)
                for s in self.structure.segments
                if s.conv is not None
            }
            self.attention = {
                s.pooling: _attention_weights(id_model.get_layer(s.pooling))
                for s in self.structure.segments
                if s.kind == "attention"
            }
        self._parts = keras.Model(id_model.input, wanted) if wanted else None

    @property
    def method(self) -> str:
        return "exact" if self.structure is not None else "occlusion"

    @property
    def rule(self) -> str:
        if self.structure is not None:
            return f"exact decomposition of the logit ({self.structure.description}); {token_rule(self.structure)}"
        return f"{OCCLUSION_RULE} (the exact decomposition does not apply: {self.reason})"

    def windows(self) -> list[tuple[int, int]]:
        """The distinct token windows ``(before, after)`` of the encoder steps (exact only)."""
        if self.structure is None:
            return []
        return sorted({w for s in self.structure.segments for w in s.windows})

    def _run(self, ids: np.ndarray) -> list[np.ndarray]:
        from keras import ops

        assert self._parts is not None
        outputs = self._parts(ids, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [np.asarray(ops.convert_to_numpy(o), dtype=np.float64) for o in outputs]

    def probabilities(self, ids: np.ndarray) -> np.ndarray:
        from keras import ops

        outputs = np.asarray(ops.convert_to_numpy(self.id_model(ids, training=False)), dtype=np.float64)
        return np.concatenate([1.0 - outputs, outputs], axis=-1) if outputs.shape[-1] == 1 else outputs

    def class_scores(self, ids: np.ndarray) -> np.ndarray:
        """Each class's logit, ``(rows, classes)``; the log-probability when the output is not a Dense layer."""
        if self._head is None:
            return np.log(np.clip(self.probabilities(ids), 1e-300, None))
        logits = self.logits_from(self._run(ids)[0])
        return np.concatenate([-logits, logits], axis=-1) if logits.shape[-1] == 1 else logits

    def logits_from(self, head_input: np.ndarray) -> np.ndarray:
        assert self._head is not None
        weights = self._head.get_weights()
        bias = weights[1] if len(weights) > 1 else 0.0
        return head_input @ weights[0].astype(np.float64) + bias

    def features(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Each pooling's input for ``ids``, by layer name (exact only)."""
        assert self.structure is not None
        return dict(zip(self._feature_names, self._run(ids)[1:], strict=True))

    def head_weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        assert self._head is not None
        weights = self._head.get_weights()
        return weights[0].astype(np.float64), (weights[1].astype(np.float64) if len(weights) > 1 else None)

    def explain(self, ids: np.ndarray, class_index: int | None = None, batch_size: int = 256) -> list[RowExplanation]:
        """Explain each row of ``ids`` for ``class_index`` (default: each row's predicted class)."""
        explained: list[RowExplanation] = []
        for start in range(0, len(ids), batch_size):
            explained.extend(self._explain_batch(np.asarray(ids[start : start + batch_size]), class_index))
        return explained

    def _explain_batch(self, ids: np.ndarray, class_index: int | None) -> list[RowExplanation]:
        probabilities = self.probabilities(ids)
        predicted = probabilities.argmax(axis=-1)
        chosen = predicted if class_index is None else np.full(len(ids), class_index)
        real = ids != PAD_ID
        if self.structure is None:
            contributions, scores = occlusion(self.class_scores, ids, chosen)
            return [
                RowExplanation(int(c), int(p), probabilities[i], float(scores[i]), None, contributions[i])
                for i, (c, p) in enumerate(zip(chosen, predicted, strict=True))
            ]
        head_input, *pooled_inputs = self._run(ids)
        features = dict(zip(self._feature_names, pooled_inputs, strict=True))
        logits = self.logits_from(head_input)
        kernel, bias = self.head_weights()
        rows = []
        for index in sorted(set(chosen.tolist())):
            where = np.nonzero(chosen == index)[0]
            picked = {name: values[where] for name, values in features.items()}
            convs = {
                s.pooling: (picked[s.conv_input], self._conv_kernels[s.pooling])
                for s in self.structure.segments
                if s.conv_input is not None
            }
            parts = decompose(self.structure, picked, real[where], kernel, bias, index, self.attention, convs)
            column, sign = class_column(self.structure, kernel.shape[1], index)
            for j, row in enumerate(where):
                logit = sign * float(logits[row, column])
                explanation = RowExplanation(
                    index, int(predicted[row]), probabilities[row], logit, parts.bias, parts.tokens[j]
                )
                rows.append((int(row), explanation))
        return [explanation for _, explanation in sorted(rows, key=lambda item: item[0])]


def _attention_weights(layer: Any) -> AttentionParameters:
    hidden_kernel, hidden_bias = (w.astype(np.float64) for w in layer.hidden.get_weights())
    (scorer_kernel,) = (w.astype(np.float64) for w in layer.scorer.get_weights())
    from keras import ops

    null = np.asarray(ops.convert_to_numpy(layer.null_score), dtype=np.float64) if layer.null_slot else None
    return AttentionParameters(hidden_kernel, hidden_bias, scorer_kernel, float(layer.temperature), null)


__all__ = ["Explainer", "RowExplanation", "class_column"]
