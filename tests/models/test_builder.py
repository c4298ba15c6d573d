import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

import gapsearch.models
from gapsearch.errors import DataError
from gapsearch.models.builder import build_model
from gapsearch.models.layers import AttentionPooling1D, MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D
from gapsearch.spec.hyperparameters import ENCODERS, POOLINGS, Hyperparameters
from tests.conftest import require_module

VOCABULARY_SIZE = 40
TINY = {"embedding_dim": 6, "filters": 5, "kernel_size": 3, "conv_layers": 2, "rnn_units": 3, "attention_units": 4}


def tiny_hyperparameters(**overrides) -> Hyperparameters:
    return Hyperparameters(**{"sequence_length": 8, **TINY, **overrides})


def padded(texts: list[np.ndarray], sequence_length: int) -> np.ndarray:
    """Token ids followed by padding (id 0) up to ``sequence_length``."""
    ids = np.zeros((len(texts), sequence_length), dtype="int32")
    for row, text in enumerate(texts):
        ids[row, : len(text)] = text
    return ids


def random_dataset(n_examples: int, sequence_length: int, n_classes: int, seed: int = 0):
    """Texts of random lengths (the first one empty: all padding) and integer labels."""
    rng = np.random.default_rng(seed)
    lengths = [0, *rng.integers(1, sequence_length + 1, n_examples - 1)]
    texts = [rng.integers(1, VOCABULARY_SIZE, length) for length in lengths]
    return padded(texts, sequence_length), rng.integers(0, n_classes, n_examples)


def n_classes_for(encoder: str, pooling: str) -> int:
    """2 or 3, alternating, so each encoder and each pooling meets both the binary and the multiclass head."""
    return 2 + (ENCODERS.index(encoder) + POOLINGS.index(pooling)) % 2


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("encoder", ENCODERS)
def test_every_encoder_and_pooling_trains_one_step(encoder, pooling):
    n_classes = n_classes_for(encoder, pooling)
    hp = tiny_hyperparameters(encoder=encoder, pooling=pooling, dropout=0.2, dense_units=4)
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=n_classes)
    model.run_eagerly = True  # tracing sixteen graphs would take most of a minute; graph mode is tested below
    x, y = random_dataset(16, hp.sequence_length, n_classes)

    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)

    assert np.isfinite(history.history["loss"][0])
    assert all(np.isfinite(ops.convert_to_numpy(w)).all() for w in model.trainable_weights)
    assert model.output_shape == (None, 1 if n_classes == 2 else n_classes)


@pytest.mark.parametrize(("encoder", "pooling", "n_classes"), [("lstm", "attention", 2), ("conv1d", "average_max", 3)])
def test_trains_in_graph_mode(encoder, pooling, n_classes):
    hp = tiny_hyperparameters(encoder=encoder, pooling=pooling)
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=n_classes)
    x, y = random_dataset(16, hp.sequence_length, n_classes)

    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)

    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][1] < history.history["loss"][0]


@pytest.mark.parametrize("n_classes", [2, 4])
def test_only_the_metrics_asked_for_are_compiled(n_classes):
    hp = tiny_hyperparameters()
    x, y = random_dataset(16, hp.sequence_length, n_classes)
    every = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=n_classes)
    assert set(every.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy", "auc", "macro_f1"}
    chosen = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=n_classes, metrics=["auc"])
    assert set(chosen.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "auc"}
    with pytest.raises(ValueError, match=r"no metric \['mae'\] for a (binary|multiclass) model"):
        build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=n_classes, metrics=["accuracy", "mae"])


@pytest.mark.parametrize("n_classes", [2, 4])
def test_loss_and_accuracy_match_numpy(n_classes):
    hp = tiny_hyperparameters(encoder="none", learning_rate=0.0123)
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=n_classes)
    model.run_eagerly = True
    x, y = random_dataset(16, hp.sequence_length, n_classes, seed=1)
    # Spread the predictions out, so the loss and accuracy really depend on them.
    model.get_layer("embedding").set_weights([np.random.default_rng(2).standard_normal((VOCABULARY_SIZE, 6))])

    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)

    probabilities = ops.convert_to_numpy(model(x)).astype("float64")
    if n_classes == 2:
        p = probabilities[:, 0]
        expected_loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        expected_accuracy = np.mean((p > 0.5) == y)
        assert set(logs) == {"loss", "accuracy", "auc", "macro_f1"}
        assert 0.0 <= logs["auc"] <= 1.0
    else:
        expected_loss = -np.mean(np.log(probabilities[np.arange(len(y)), y]))
        expected_accuracy = np.mean(probabilities.argmax(axis=1) == y)
        assert set(logs) == {"loss", "accuracy", "auc", "macro_f1"}
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(logs["loss"], expected_loss, rtol=1e-5)
    assert logs["accuracy"] == pytest.approx(expected_accuracy)
    assert 0.0 < expected_accuracy < 1.0
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.0123)


@pytest.mark.parametrize(("dropout", "dense_units"), [(0.0, 0), (0.3, 7)])
def test_layers_follow_the_hyperparameters(dropout, dense_units):
    hp = tiny_hyperparameters(
        sequence_length=20, length_buckets=0, conv_layers=3, dropout=dropout, dense_units=dense_units
    )

    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=3)

    assert model.input_shape == (None, 20)
    assert model.inputs[0].dtype == "int32"
    assert model.get_layer("embedding").count_params() == VOCABULARY_SIZE * 6
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [(c.filters, c.kernel_size, c.padding) for c in convolutions] == [(5, (3,), "same")] * 3
    dropouts = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == ([0.3] if dropout else [])
    dense = [layer.units for layer in model.layers if type(layer) is keras.layers.Dense]
    assert dense == ([7, 3] if dense_units else [3])


@pytest.mark.parametrize(
    ("pooling", "pooling_types", "width"),
    [
        ("average", [MaskedGlobalAveragePooling1D], 10),
        ("max", [MaskedGlobalMaxPooling1D], 10),
        ("attention", [AttentionPooling1D], 40),  # four heads by default, each 10 wide
        ("average_max", [MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D], 20),
    ],
)
def test_pooling_layers_and_width(pooling, pooling_types, width):
    hp = tiny_hyperparameters(encoder="gru", rnn_units=5, pooling=pooling)

    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)

    poolings = [type(layer) for layer in model.layers if layer.__module__.startswith("gapsearch.models.layers.")]
    assert [t for t in poolings if t in pooling_types] == pooling_types
    assert model.get_layer("output").input.shape == (None, width)  # two directions of 5 units, once or more


# flatten is left out by design: its weights are per position, so a model of another sequence_length is
# another model (MaskedFlatten's own tests check that padding's content never reaches its output).
@pytest.mark.parametrize("pooling", [pooling for pooling in POOLINGS if pooling != "flatten"])
@pytest.mark.parametrize("encoder", ENCODERS)
def test_padding_does_not_change_the_prediction(encoder, pooling):
    # Each text alone, with no padding at all (a model whose sequence_length is the text's length), is
    # the reference; the same texts padded to 11 and to 56 steps (the longest followed by 5 and by 50
    # padding steps) must give the same predictions through models that share every weight. Comparing
    # 5 with 50 padding steps alone would miss a leak that is the same for any amount of padding.
    rng = np.random.default_rng(5)
    texts = [rng.integers(1, VOCABULARY_SIZE, length) for length in (6, 6, 5, 3, 1)]

    def model_for(sequence_length: int) -> keras.Model:
        hp = tiny_hyperparameters(encoder=encoder, pooling=pooling, sequence_length=sequence_length)
        return build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=3)

    models = {length: model_for(length) for length in (11, 56, *{len(text) for text in texts})}
    # Random weights, biases included, as after training: fresh zero biases would keep an unmasked
    # recurrent state at exactly zero through zeroed padding and hide the leak.
    weights = [0.7 * rng.standard_normal(w.shape) for w in models[11].get_weights()]
    for model in models.values():
        model.set_weights(weights)

    alone = np.concatenate([ops.convert_to_numpy(models[len(text)](text[None, :])) for text in texts])
    for length in (11, 56):
        prediction = ops.convert_to_numpy(models[length](padded(texts, length)))
        np.testing.assert_allclose(prediction, alone, rtol=0, atol=1e-5)
    assert np.ptp(alone, axis=0).max() > 1e-2  # the texts are told apart: the check has teeth


@pytest.mark.parametrize(
    ("vocabulary_size", "n_classes", "message"),
    [
        (40, 1, "A classifier needs at least 2 classes, but the labels hold n_classes=1."),
        (
            1,
            2,
            "The vocabulary must hold padding and at least one token (vocabulary_size >= 2), "
            "but got vocabulary_size=1.",
        ),
    ],
)
def test_impossible_data_is_a_data_error(vocabulary_size, n_classes, message):
    with pytest.raises(DataError) as error:
        build_model(tiny_hyperparameters(), vocabulary_size=vocabulary_size, n_classes=n_classes)

    assert str(error.value) == message


TORCH_SCRIPT = """
import json

import keras
import numpy as np

from gapsearch.models.builder import build_model
from gapsearch.spec.hyperparameters import Hyperparameters

rng = np.random.default_rng(0)
result = {"backend": keras.backend.backend(), "losses": [], "padding_difference": None}
for encoder, pooling, n_classes in [("lstm", "attention", 2), ("conv1d", "average_max", 3)]:
    hp = Hyperparameters(sequence_length=12, embedding_dim=6, encoder=encoder, filters=5, conv_layers=2,
                         rnn_units=3, pooling=pooling, attention_units=4, dropout=0.2, dense_units=4)
    model = build_model(hp, vocabulary_size=40, n_classes=n_classes)
    x = rng.integers(1, 40, (16, 12)).astype("int32")
    x[:8, 8:] = 0  # half the texts padded, the other half not at all
    x[0] = 0
    history = model.fit(x, rng.integers(0, n_classes, 16), epochs=1, batch_size=8, verbose=0)
    result["losses"].append(history.history["loss"][0])
    # The prediction must not depend on how much padding follows the texts (12 vs 30 steps), with
    # random weights: fresh zero biases would hide a recurrent layer that ignores the mask.
    weights = [0.7 * rng.standard_normal(w.shape) for w in model.get_weights()]
    model.set_weights(weights)
    longer = build_model(hp.model_copy(update={"sequence_length": 30}), vocabulary_size=40, n_classes=n_classes)
    longer.set_weights(weights)
    x_longer = np.zeros((16, 30), dtype="int32")
    x_longer[:, :12] = x
    difference = np.abs(keras.ops.convert_to_numpy(model(x)) - keras.ops.convert_to_numpy(longer(x_longer))).max()
    result["padding_difference"] = max(result["padding_difference"] or 0.0, float(difference))
print(json.dumps(result))
"""


def test_builds_and_trains_under_the_torch_backend():
    require_module("torch")
    project_root = Path(gapsearch.models.__file__).resolve().parents[2]
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(project_root), "CUDA_VISIBLE_DEVICES": ""}

    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(TORCH_SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["backend"] == "torch"
    assert len(result["losses"]) == 2
    assert np.isfinite(result["losses"]).all()
    assert result["padding_difference"] < 1e-5
