"""gapsearch: hyperparameter search for Keras text classifiers on Optuna.

Importing this package is cheap: it does not import Keras, TensorFlow or Optuna.
``gapsearch.load("study.yaml")`` gives the Python API (:class:`gapsearch.api.Study`);
``gapsearch.load_model("model.keras")`` loads an exported model without TensorFlow's start-up lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gapsearch.api import Study
    from gapsearch.models.text_classifier import TextClassifier

__version__ = "0.1.0"


def load(study_file: str | Path, storage: str | None = None) -> Study:
    """Load and check a study file; see :func:`gapsearch.api.load`."""
    from gapsearch.api import load as load_study_file

    return load_study_file(study_file, storage=storage)


def load_model(path: str | Path) -> TextClassifier:
    """Load a model written by ``gapsearch export`` (raw strings in), quietly: Keras and its backend are imported
    here with TensorFlow's C++ start-up lines (cuInit, oneDNN...) held back, so call it before importing Keras.

    ``model.classify(texts)`` gives each text's label and every class's probability; ``model.predict(texts)``
    the output layer's scores.

    Raises:
        UserError: no such file, or not a gapsearch model (one line, as ``gapsearch predict`` says it).
    """
    from gapsearch.models.loading import load_text_classifier

    return load_text_classifier(Path(path))


__all__ = ["__version__", "load", "load_model"]
