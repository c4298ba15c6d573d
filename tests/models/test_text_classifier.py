"""TextClassifier: raw strings in, the id model's probabilities out; saved and reloaded by Keras alone."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gapsearch.data.text import Vocabulary, standardize, tokenize, vectorize
from gapsearch.models.builder import build_model
from gapsearch.models.text_classifier import TextClassifier
from gapsearch.spec import Hyperparameters
from gapsearch.spec.data import TextSettings

TOKENS = ("", "[UNK]", "good", "bad", "film", "the", "don't")
TEXTS = ["The GOOD film!", "bad, bad <br/>film", "", "don't", "unknown words only"]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_strings_give_the_id_models_probabilities_and_survive_a_save(tmp_path, n_classes):
    hp = Hyperparameters(sequence_length=6, embedding_dim=4, filters=4, pooling="attention", attention_units=4)
    keras.utils.set_random_seed(1)
    trained = build_model(hp, vocabulary_size=len(TOKENS), n_classes=n_classes)
    settings = TextSettings(truncation="pre")
    names = [f"c{i}" for i in range(n_classes)]
    model = TextClassifier.from_trained(trained, Vocabulary(TOKENS), settings, hp.sequence_length, names)
    ids = vectorize([tokenize(standardize(t, settings)) for t in TEXTS], Vocabulary(TOKENS), 6, "pre")
    np.testing.assert_array_equal(model.vectorize(TEXTS), ids)
    reference = np.asarray(trained.predict(ids, verbose=0))
    np.testing.assert_allclose(model.predict(TEXTS, verbose=0), reference, atol=1e-6)
    np.testing.assert_allclose(model.predict(ids, verbose=0), reference, atol=1e-6)  # ids still work
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(TEXTS)), reference, atol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, TextClassifier)
    assert (loaded.vocabulary, loaded.text_settings, loaded.sequence_length, loaded.class_names) == (
        Vocabulary(TOKENS),
        settings,
        6,
        tuple(names),
    )
    labels, probabilities = loaded.classify(TEXTS)
    expected = np.concatenate([1 - reference, reference], axis=1) if n_classes == 2 else reference
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert labels == [names[i] for i in expected.argmax(axis=1)]
