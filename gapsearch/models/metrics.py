"""Metrics Keras does not have in the form a text classifier needs: macro-F1, one-vs-rest AUC, confusion counts.

``keras.ops`` only, so they run on every backend. Each keeps its counts in metric variables, so
the epoch's value is computed over the whole validation set, not averaged over batches.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="gapsearch")
class MacroF1(keras.metrics.Metric):
    """The unweighted mean over classes of each class's F1 (``2 tp / (2 tp + fp + fn)``; 0 for an absent class).

    Args:
        n_classes: Number of classes (of labels, for multilabel).
        mode: ``"binary"`` (one sigmoid unit; both classes count), ``"sparse"`` (softmax and integer
            labels) or ``"multilabel"`` (one sigmoid per label, multi-hot targets).
        threshold: Probability from which a sigmoid output counts as positive.
    """

    def __init__(
        self, n_classes: int, mode: str = "sparse", threshold: float = 0.5, name: str = "macro_f1", **kwargs
    ) -> None:
        super().__init__(name=name, **kwargs)
        if mode not in ("binary", "sparse", "multilabel"):
            raise ValueError(f"mode must be 'binary', 'sparse' or 'multilabel', but got {mode!r}")
        self.n_classes = n_classes
        self.mode = mode
        self.threshold = threshold
        shape = (n_classes,)
        self.true_positives = self.add_variable(shape=shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=shape, initializer="zeros", name="false_positives")
        self.false_negatives = self.add_variable(shape=shape, initializer="zeros", name="false_negatives")

    def _one_hot(self, y_true, y_pred):  # noqa: ANN001, ANN202
        if self.mode == "multilabel":
            truth = ops.cast(y_true, "float32")
            predicted = ops.cast(ops.greater_equal(y_pred, self.threshold), "float32")
            return truth, predicted
        if self.mode == "binary":
            positive = ops.cast(ops.greater_equal(ops.reshape(y_pred, (-1,)), self.threshold), "int32")
            predicted_ids = positive
        else:
            predicted_ids = ops.argmax(y_pred, axis=-1)
        true_ids = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        return ops.one_hot(true_ids, self.n_classes), ops.one_hot(predicted_ids, self.n_classes)

    def update_state(self, y_true, y_pred, sample_weight=None):  # noqa: ANN001
        truth, predicted = self._one_hot(y_true, y_pred)
        self.true_positives.assign_add(ops.sum(truth * predicted, axis=0))
        self.false_positives.assign_add(ops.sum((1.0 - truth) * predicted, axis=0))
        self.false_negatives.assign_add(ops.sum(truth * (1.0 - predicted), axis=0))

    def result(self):  # noqa: ANN201
        numerator = 2.0 * self.true_positives
        denominator = numerator + self.false_positives + self.false_negatives
        per_class = ops.where(denominator > 0, numerator / ops.maximum(denominator, 1e-12), 0.0)
        return ops.mean(per_class)

    def reset_state(self) -> None:
        for variable in (self.true_positives, self.false_positives, self.false_negatives):
            variable.assign(ops.zeros_like(variable))

    def get_config(self) -> dict:
        return {**super().get_config(), "n_classes": self.n_classes, "mode": self.mode, "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="gapsearch")
class SparseMacroAUC(keras.metrics.AUC):
    """Keras' ROC AUC averaged over classes one-vs-rest, for integer labels and a softmax output."""

    def __init__(self, n_classes: int, name: str = "auc", **kwargs) -> None:
        kwargs.pop("multi_label", None)
        kwargs.pop("num_labels", None)
        super().__init__(name=name, multi_label=True, num_labels=n_classes, **kwargs)
        self.n_classes = n_classes

    def update_state(self, y_true, y_pred, sample_weight=None):  # noqa: ANN001
        one_hot = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), self.n_classes)
        return super().update_state(one_hot, y_pred, sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("multi_label", None)
        config.pop("num_labels", None)
        return {**config, "n_classes": self.n_classes}


@keras.saving.register_keras_serializable(package="gapsearch")
class ConfusionCounts(keras.metrics.Metric):
    """Examples per (true class, predicted class), kept in ``counts`` (``n_classes x n_classes``, int32).

    Predictions are those of Keras' accuracy metrics: a sigmoid unit's probability above ``threshold``
    is class 1, a softmax's argmax is its class; so the counts' diagonal over their sum is the
    epoch's accuracy. Keras reports one number per metric: ``result()`` is the number of examples
    counted, and the counts themselves are read from the variable (after an ``evaluate()``, those of
    the validation pass).
    """

    def __init__(self, n_classes: int, threshold: float = 0.5, name: str = "confusion", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.n_classes = n_classes
        self.threshold = threshold
        self.counts = self.add_variable(shape=(n_classes, n_classes), initializer="zeros", dtype="int32", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None):  # noqa: ANN001
        if y_pred.shape[-1] == 1:
            predicted = ops.cast(ops.greater(ops.reshape(y_pred, (-1,)), self.threshold), "int32")
        else:
            predicted = ops.argmax(y_pred, axis=-1)
        truth = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), self.n_classes)
        pairs = ops.matmul(ops.transpose(truth), ops.one_hot(predicted, self.n_classes))
        self.counts.assign_add(ops.cast(ops.round(pairs), "int32"))

    def result(self):  # noqa: ANN201
        return ops.cast(ops.sum(self.counts), "float32")

    def reset_state(self) -> None:
        self.counts.assign(ops.zeros(self.counts.shape, dtype=self.counts.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "n_classes": self.n_classes, "threshold": self.threshold}
