"""A TensorFlow SavedModel of an exported model, for TF Serving: a batch of strings in, class scores out.

TensorFlow only (``KERAS_BACKEND=tensorflow``). The text pipeline is rebuilt from ``tf.strings`` ops so
that the SavedModel needs no Python: standardization follows :func:`gapsearch.data.text.standardize`
rule by rule, in RE2 syntax (which has no look-around, so the apostrophe rule takes three steps), and
the vocabulary is a static hash table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.data.text import OOV_ID, PAD_ID
from gapsearch.errors import UserError

if TYPE_CHECKING:
    from gapsearch.models.text_classifier import TextClassifier

_MARKUP = r"</?[A-Za-z][^<>]*>"
_WORD = r"[\pL\pN]"
# Python's \w is letters, digits and "_"; the underscore counts as punctuation here, as in data.text.
_NOT_WORD_SPACE_OR_APOSTROPHE = r"[^\pL\pN\s\pZ']|_"
_KEPT_APOSTROPHE = "\x01"


def write_savedmodel(model: TextClassifier, directory: Path) -> None:
    """Write ``model`` as a SavedModel whose ``serving_default`` maps ``texts`` (tf.string) to ``scores``.

    ``scores`` has one column per class (``model.class_names``), like :meth:`TextClassifier.probabilities`.
    The ``token_ids`` signature shows the ids a batch of texts becomes.

    Raises:
        UserError: the Keras backend is not TensorFlow, or ``directory`` exists and is not empty.
    """
    check_savedmodel_target(directory)
    import tensorflow as tf

    module = _serving_module(model)
    tf.saved_model.save(
        module, str(directory), signatures={"serving_default": module.serve, "token_ids": module.token_ids}
    )


def check_savedmodel_target(directory: Path) -> None:
    """Fail early, before anything is fetched or written, when no SavedModel can be written to ``directory``."""
    from gapsearch.runtime import import_keras

    import_keras()
    import keras

    if keras.backend.backend() != "tensorflow":
        raise UserError(
            f"--savedmodel: a SavedModel needs KERAS_BACKEND=tensorflow, but the backend is "
            f"{keras.backend.backend()!r}; rerun with KERAS_BACKEND=tensorflow or leave out --savedmodel"
        )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UserError(f"--savedmodel: {str(directory)!r} already exists and is not an empty folder")


def _serving_module(model: TextClassifier):  # noqa: ANN202 - a tf.Module
    import tensorflow as tf

    settings = model.text_settings
    tokens = list(model.vocabulary.tokens[2:])
    sequence_length = model.sequence_length
    binary = len(model.class_names) == 2

    class TextServing(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.classifier = model.classifier
            self.table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(tokens, dtype=tf.string), tf.range(2, len(tokens) + 2, dtype=tf.int64)
                ),
                default_value=OOV_ID,
            )
            self.class_names = tf.Variable(list(model.class_names), trainable=False, dtype=tf.string)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
        def serve(self, texts):
            ids = self.vectorize(texts)
            outputs = tf.cast(self.classifier(ids, training=False), tf.float32)
            if binary:
                outputs = tf.concat([1.0 - outputs, outputs], axis=-1)
            return {"scores": outputs}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
        def token_ids(self, texts):
            return {"token_ids": self.vectorize(texts)}

        def vectorize(self, texts):
            if settings.strip_markup:
                texts = tf.strings.regex_replace(texts, _MARKUP, " ")
            if settings.lowercase:
                texts = tf.strings.lower(texts, encoding="utf-8")
            if settings.strip_punctuation:
                texts = tf.strings.regex_replace(texts, "\u2019", "'")
                texts = tf.strings.regex_replace(texts, _NOT_WORD_SPACE_OR_APOSTROPHE, " ")
                for _ in range(2):  # twice: a match consumes the letter a next apostrophe needs ("o'a'b")
                    texts = tf.strings.regex_replace(texts, f"({_WORD})'({_WORD})", rf"\1{_KEPT_APOSTROPHE}\2")
                texts = tf.strings.regex_replace(texts, "'", " ")
                texts = tf.strings.regex_replace(texts, _KEPT_APOSTROPHE, "'")
            # Unicode spaces too, then split on runs of whitespace, dropping empty tokens (like str.split()).
            words = tf.strings.split(tf.strings.regex_replace(texts, r"[\s\pZ]+", " "))
            ids = tf.ragged.map_flat_values(self.table.lookup, words)
            ids = ids[:, :sequence_length] if settings.truncation == "post" else ids[:, -sequence_length:]
            return tf.cast(ids.to_tensor(default_value=PAD_ID, shape=[None, sequence_length]), tf.int32)

    return TextServing()
