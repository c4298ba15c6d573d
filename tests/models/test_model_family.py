"""The model family of issue 12: widths side by side, the new poolings, calibration, optimizers, max_norm, vectors."""

import keras
import numpy as np
import pytest
from keras import ops

from gapsearch.data.vectors import LookedUpVectors
from gapsearch.models.builder import build_model
from gapsearch.spec.hyperparameters import OPTIMIZERS, POOLINGS, Hyperparameters

VOCABULARY_SIZE, STEPS = 30, 10
TINY = {"sequence_length": STEPS, "embedding_dim": 6, "filters": 4, "rnn_units": 3, "attention_units": 4}
ENCODINGS = {
    "conv1d": {"encoder": "conv1d"},
    "conv1d_widths": {"encoder": "conv1d", "kernel_sizes": (2, 3), "conv_layers": 2},
    "lstm": {"encoder": "lstm"},
    "gru": {"encoder": "gru"},
    "none": {"encoder": "none"},
}


def batch(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Token ids with padding after each text (the first text all padding) and binary labels."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCABULARY_SIZE, (n, STEPS)).astype("int32")
    for row, length in enumerate([0, *rng.integers(1, STEPS + 1, n - 1)]):
        ids[row, length:] = 0
    return ids, rng.integers(0, 2, n)


@pytest.mark.parametrize("calibration", ["none", "se"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoder_pooling_and_calibration_trains_saves_and_reloads(encoding, calibration, tmp_path):
    ids, labels = batch()
    for pooling in POOLINGS:  # one test per encoder and calibration keeps the suite fast; the loop names the case
        hp = Hyperparameters(**TINY, **ENCODINGS[encoding], pooling=pooling, calibration=calibration, se_ratio=2)
        model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)
        model.run_eagerly = True  # a single step: tracing it would cost more than running it
        before = [np.array(w) for w in model.get_weights()]
        loss = model.train_on_batch(ids, labels, return_dict=True)["loss"]
        assert np.isfinite(loss), (pooling, loss)
        assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)), pooling
        path = tmp_path / f"{pooling}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_allclose(
            ops.convert_to_numpy(loaded(ids)), ops.convert_to_numpy(model(ids)), rtol=1e-6, atol=1e-7, err_msg=pooling
        )
        assert np.isfinite(ops.convert_to_numpy(model(ids))).all(), pooling


@pytest.mark.parametrize(("pooling", "per_width"), [("average", 4), ("average_max", 8), ("attention", 8)])
def test_each_width_is_a_branch_and_the_pooled_vectors_are_concatenated(pooling, per_width):
    hp = Hyperparameters(**TINY, kernel_sizes=(3, 4, 5), pooling=pooling, attention_heads=2)
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)

    kernels = sorted(layer.kernel_size[0] for layer in model.layers if isinstance(layer, keras.layers.Conv1D))
    assert kernels == [3, 4, 5]
    assert model.get_layer("output").input.shape == (None, 3 * per_width)


def test_flatten_parameters_grow_with_the_sequence_length():
    def params(pooling: str, steps: int) -> int:
        hp = Hyperparameters(**{**TINY, "sequence_length": steps}, pooling=pooling)
        return build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2).count_params()

    assert params("average", 10) == params("average", 40)
    # The output layer reads steps x filters values: 30 more steps, 30 x 4 more weights.
    assert params("flatten", 40) - params("flatten", 10) == 30 * TINY["filters"]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_the_optimizer_is_the_one_named(optimizer):
    hp = Hyperparameters(**TINY, optimizer=optimizer, learning_rate=0.05)
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert type(model.optimizer).__name__.lower() == optimizer
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.05)


@pytest.mark.parametrize(("optimizer", "expected"), [("adam", 1e-3), ("adadelta", 1.0), ("sgd", 1e-2)])
def test_the_auto_learning_rate_is_the_optimizers_own(optimizer, expected):
    # Adadelta at Keras' 1e-3 barely moves its weights; 'auto' gives it Zeiler's (and Kim's) 1.0.
    hp = Hyperparameters(**TINY, optimizer=optimizer)
    assert hp.learning_rate == "auto"
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(expected)
    keras_default = getattr(keras.optimizers, type(model.optimizer).__name__)().learning_rate
    assert (float(ops.convert_to_numpy(keras_default)) == pytest.approx(expected)) == (optimizer != "adadelta")


def test_max_norm_bounds_each_output_unit_after_training():
    ids, labels = batch(n=12)
    hp = Hyperparameters(**TINY, max_norm=0.5, optimizer="sgd", learning_rate=5.0)
    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=3)
    for _ in range(5):
        model.train_on_batch(ids, labels % 3)
    norms = np.linalg.norm(ops.convert_to_numpy(model.get_layer("output").kernel), axis=0)
    assert norms.shape == (3,) and norms.max() <= 0.5 + 1e-5
    unbounded = build_model(hp.model_copy(update={"max_norm": None}), vocabulary_size=VOCABULARY_SIZE, n_classes=3)
    for _ in range(5):
        unbounded.train_on_batch(ids, labels % 3)
    assert np.linalg.norm(ops.convert_to_numpy(unbounded.get_layer("output").kernel), axis=0).max() > 0.5


@pytest.mark.parametrize("trainable", [True, False])
def test_vectors_start_the_embedding_and_frozen_ones_stay(trainable, tmp_path):
    rng = np.random.default_rng(2)
    found = np.zeros(VOCABULARY_SIZE, dtype=bool)
    found[2:20] = True
    matrix = np.where(found[:, None], rng.standard_normal((VOCABULARY_SIZE, 7)), 0.0).astype("float32")
    vectors = LookedUpVectors(matrix, found, float(matrix[found].std()))
    hp = Hyperparameters(**TINY, embedding={"vectors": "v.txt", "trainable": trainable})
    keras.utils.set_random_seed(1)

    model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2, vectors=vectors)

    start = ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    assert start.shape == (VOCABULARY_SIZE, 7)  # the vectors' dimension, not embedding_dim
    unit = matrix[found] / np.linalg.norm(matrix[found], axis=1, keepdims=True)
    np.testing.assert_allclose(start[found], unit, rtol=1e-6)  # the vectors' directions, at unit length
    bound = unit.std() * np.sqrt(3.0)
    assert np.abs(start[~found][1:]).max() <= bound and np.abs(start[~found][1:]).std() > 0  # random, same scale
    ids, labels = batch()
    model.train_on_batch(ids, labels)
    after = ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    assert np.array_equal(after, start) is (not trainable)


def test_the_embedding_starts_at_unit_length_and_words_without_a_vector_at_the_same_variance():
    # GloVe-like numbers (standard deviation 0.6, some words' vectors longer than others'): at the file's scale
    # Adam's steps barely moved them in fine-tuning (benchmark tests/benchmarks/vectors_help.py).
    rng = np.random.default_rng(4)
    size, dimension = 4000, 50
    found = rng.random(size) < 0.9
    found[:2] = False  # padding and out-of-vocabulary ids never have a vector
    lengths = rng.uniform(0.5, 2.0, (size, 1))
    matrix = np.where(found[:, None], 0.6 * lengths * rng.standard_normal((size, dimension)), 0.0).astype("float32")
    vectors = LookedUpVectors(matrix, found, float(matrix[found].std()))
    hp = Hyperparameters(**{**TINY, "sequence_length": 4}, embedding={"vectors": "v.txt"})
    keras.utils.set_random_seed(3)

    model = build_model(hp, vocabulary_size=size, n_classes=2, vectors=vectors)
    start = ops.convert_to_numpy(model.get_layer("embedding").embeddings)

    np.testing.assert_allclose(np.linalg.norm(start[found], axis=1), 1.0, rtol=1e-5)
    without = start[~found][1:]  # id 0, padding, starts at zero
    assert not start[0].any()
    # Kim (2014): uniform noise whose variance is the (scaled) vectors'; 400 rows of 50 numbers pin it within 5%.
    assert without.std() == pytest.approx(start[found].std(), rel=0.05)
    assert start[found].std() == pytest.approx(1 / np.sqrt(dimension), rel=0.05)


def test_the_new_layers_have_their_own_flops_estimates():
    from gapsearch.models.costs import flops_per_example, layer_flops

    def layers(pooling: str) -> dict[str, int]:
        options = {"kernel_sizes": (3,), "calibration": "se", "se_ratio": 2, "attention_heads": 2}
        hp = Hyperparameters(**TINY, **options, pooling=pooling)
        model = build_model(hp, vocabulary_size=VOCABULARY_SIZE, n_classes=2)
        assert flops_per_example(model, STEPS) > 0  # bucketed by default: any length, so the steps are given
        return {layer.name: layer_flops(layer, STEPS) for layer in model.layers}

    steps, channels = STEPS, TINY["filters"]
    assert layers("gem")["gem_pooling_w1"] == 4 * steps * channels
    assert layers("mixed")["mixed_pooling_w1"] == 2 * steps * channels + 3 * channels
    assert layers("flatten")["flatten_w1"] == steps * channels
    assert layers("average")["squeeze_excitation_w1"] == 2 * steps * channels + 4 * channels * (channels // 2)
    attention = 2 * channels * TINY["attention_units"] + 2 * TINY["attention_units"] * 2
    assert layers("attention")["attention_pooling_w1"] == steps * (attention + 2 * (3 + 2 * channels))
