"""Macro-F1, one-vs-rest AUC and confusion counts against NumPy references, accumulated over batches."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gapsearch.models.metrics import ConfusionCounts, MacroF1, SparseMacroAUC


def macro_f1_reference(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    scores = []
    for c in range(n_classes):
        tp = np.sum((truth == c) & (predicted == c))
        fp = np.sum((truth != c) & (predicted == c))
        fn = np.sum((truth == c) & (predicted != c))
        scores.append(0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def accumulate(metric, y_true: np.ndarray, y_pred: np.ndarray, batch: int = 7) -> float:
    for start in range(0, len(y_true), batch):
        metric.update_state(y_true[start : start + batch], y_pred[start : start + batch])
    return float(metric.result())


@pytest.mark.parametrize("n_classes", [3, 5])
def test_sparse_macro_f1(n_classes):
    rng = np.random.default_rng(n_classes)
    truth = rng.integers(0, n_classes, size=60)
    probabilities = rng.dirichlet(np.ones(n_classes), size=60).astype("float32")
    expected = macro_f1_reference(truth, probabilities.argmax(axis=1), n_classes)
    assert accumulate(MacroF1(n_classes, mode="sparse"), truth, probabilities) == pytest.approx(expected, abs=1e-6)


def test_binary_macro_f1_counts_both_classes():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=50)
    probabilities = rng.random((50, 1)).astype("float32")
    expected = macro_f1_reference(truth, (probabilities[:, 0] >= 0.5).astype(int), 2)
    assert accumulate(MacroF1(2, mode="binary"), truth, probabilities) == pytest.approx(expected, abs=1e-6)


def test_multilabel_macro_f1():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, size=(40, 4)).astype("float32")
    probabilities = rng.random((40, 4)).astype("float32")
    predicted = probabilities >= 0.5
    per_label = []
    for j in range(4):
        tp = np.sum(truth[:, j].astype(bool) & predicted[:, j])
        fp = np.sum(~truth[:, j].astype(bool) & predicted[:, j])
        fn = np.sum(truth[:, j].astype(bool) & ~predicted[:, j])
        per_label.append(2 * tp / (2 * tp + fp + fn))
    metric = MacroF1(4, mode="multilabel")
    assert accumulate(metric, truth, probabilities) == pytest.approx(float(np.mean(per_label)), abs=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_sparse_macro_auc_matches_one_vs_rest_with_one_hot_labels():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, size=80)
    probabilities = rng.dirichlet(np.ones(3), size=80).astype("float32")
    reference = keras.metrics.AUC(multi_label=True, num_labels=3)
    reference.update_state(np.eye(3)[truth], probabilities)
    assert accumulate(SparseMacroAUC(3), truth, probabilities) == pytest.approx(float(reference.result()), abs=1e-6)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_confusion_counts_agree_with_numpy_and_with_keras_accuracy(n_classes):
    rng = np.random.default_rng(n_classes)
    truth = rng.integers(0, n_classes, size=61)
    if n_classes == 2:  # one sigmoid unit; a probability of exactly 0.5 is class 0, as for Keras' accuracy
        scores = rng.random((61, 1)).astype("float32")
        scores[:4] = 0.5
        predicted = (scores[:, 0] > 0.5).astype(int)
        accuracy = keras.metrics.BinaryAccuracy()
    else:
        scores = rng.dirichlet(np.ones(n_classes), size=61).astype("float32")
        predicted = scores.argmax(axis=1)
        accuracy = keras.metrics.SparseCategoricalAccuracy()
    expected = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(expected, (truth, predicted), 1)
    metric = ConfusionCounts(n_classes)
    assert accumulate(metric, truth, scores) == 61  # its value: the examples counted
    counts = keras.ops.convert_to_numpy(metric.counts)
    np.testing.assert_array_equal(counts, expected)
    assert np.trace(counts) / counts.sum() == pytest.approx(accumulate(accuracy, truth, scores), abs=1e-7)
    metric.reset_state()
    assert keras.ops.convert_to_numpy(metric.counts).sum() == 0
