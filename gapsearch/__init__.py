"""gapsearch: hyperparameter search for Keras text classifiers on Optuna.

Importing this package is cheap: it does not import Keras, TensorFlow or Optuna.
``gapsearch.load("study.yaml")`` gives the Python API (:class:`gapsearch.api.Study`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gapsearch.api import Study

__version__ = "0.1.0"


def load(study_file: str | Path, storage: str | None = None) -> Study:
    """Load and check a study file; see :func:`gapsearch.api.load`."""
    from gapsearch.api import load as load_study_file

    return load_study_file(study_file, storage=storage)


__all__ = ["__version__", "load"]
