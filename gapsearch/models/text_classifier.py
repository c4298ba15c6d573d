"""A trained classifier that takes raw strings: the text settings, vocabulary and padding travel with it.

Keras 3 has no string tensors that work on every backend, so the strings are turned into ids in
Python, by the same :mod:`gapsearch.data.text` code that vectorized the training data, before the
id model runs. Saved as ``.keras``, the whole thing reloads with ``keras.saving.load_model`` once
this module is imported (``import gapsearch.models.text_classifier``), which registers it and the
custom layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

import gapsearch.models.layers  # noqa: F401 - registers the layers the id model is built from
import gapsearch.models.metrics  # noqa: F401 - registers the metrics a trained model's compile config names
from gapsearch.data.text import Vocabulary, standardize, tokenize, vectorize
from gapsearch.spec.data import TextSettings


def _is_texts(inputs: Any) -> bool:
    """Whether ``inputs`` is a batch of raw strings (rather than token ids)."""
    if isinstance(inputs, str):
        return True
    if isinstance(inputs, np.ndarray):
        return inputs.dtype.kind in "USO" and (inputs.size == 0 or isinstance(inputs.flat[0], str))
    return isinstance(inputs, (list, tuple)) and len(inputs) > 0 and all(isinstance(t, str) for t in inputs)


@keras.saving.register_keras_serializable(package="gapsearch")
class TextClassifier(keras.Model):
    """The id model of a trial together with everything that turns raw text into its ids.

    ``predict`` and ``__call__`` take a list of strings (or token ids, as the id model does);
    :meth:`classify` returns the labels and the probability of every class.

    Args:
        classifier: The trained model over int32 token ids of shape ``(batch, sequence_length)``.
        vocabulary: The training vocabulary's tokens, id order (``""`` and ``"[UNK]"`` first).
        text_settings: The study's text settings (lowercase, strip_markup, strip_punctuation, truncation).
        sequence_length: Tokens per text; longer texts are cut, shorter ones padded.
        class_names: The label of each class index.
    """

    def __init__(
        self,
        classifier: keras.Model,
        vocabulary: Sequence[str],
        text_settings: dict[str, Any],
        sequence_length: int,
        class_names: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.classifier = classifier
        self._vocabulary = Vocabulary(tuple(vocabulary))
        self._settings = TextSettings(**text_settings)
        self.sequence_length = int(sequence_length)
        self.class_names = tuple(str(name) for name in class_names)
        self.built = True  # the id model inside is built; nothing here has weights of its own

    @classmethod
    def from_trained(
        cls,
        model: keras.Model,
        vocabulary: Vocabulary,
        text_settings: TextSettings,
        sequence_length: int,
        class_names: Sequence[str],
    ) -> TextClassifier:
        """Wrap a trained id model; an uncompiled copy, so no optimizer state is saved with it."""
        classifier = keras.models.clone_model(model)
        classifier.set_weights(model.get_weights())
        return cls(classifier, vocabulary.tokens, text_settings.model_dump(), sequence_length, class_names)

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    @property
    def text_settings(self) -> TextSettings:
        return self._settings

    def vectorize(self, texts: Sequence[str] | str) -> np.ndarray:
        """Raw strings to padded int32 ids, exactly as the training data was vectorized."""
        if isinstance(texts, str):
            texts = [texts]
        tokens = [tokenize(standardize(str(text), self._settings)) for text in texts]
        return vectorize(tokens, self._vocabulary, self.sequence_length, self._settings.truncation)

    def call(self, inputs, training=False):
        return self.classifier(inputs, training=training)

    def __call__(self, inputs, *args, **kwargs):
        if _is_texts(inputs):
            inputs = self.vectorize(list(np.asarray(inputs).reshape(-1)))
        return super().__call__(inputs, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        if _is_texts(x):
            x = self.vectorize(list(np.asarray(x).reshape(-1)))
        return super().predict(x, *args, **kwargs)

    def probabilities(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """The probability of every class for each text, shape ``(len(texts), len(class_names))``."""
        outputs = np.asarray(self.predict(self.vectorize(texts), batch_size=batch_size, verbose=0), dtype=np.float64)
        if outputs.shape[-1] == 1:  # one sigmoid unit: the probability of the second class
            return np.concatenate([1.0 - outputs, outputs], axis=-1)
        return outputs

    def classify(self, texts: Sequence[str], batch_size: int = 256) -> tuple[list[str], np.ndarray]:
        """The predicted label of each text, and the probabilities of every class."""
        probabilities = self.probabilities(texts, batch_size=batch_size)
        return [self.class_names[i] for i in probabilities.argmax(axis=-1)], probabilities

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "vocabulary": list(self._vocabulary.tokens),
            "text_settings": self._settings.model_dump(),
            "sequence_length": self.sequence_length,
            "class_names": list(self.class_names),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextClassifier:
        config = dict(config)
        classifier = keras.saving.deserialize_keras_object(config.pop("classifier"))
        return cls(classifier, **config)
