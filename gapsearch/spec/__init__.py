"""The study file: typed, frozen sections, loaded and checked once.

Nothing here imports Keras or TensorFlow.

May import: the foundation (``gapsearch.errors``, ``masking``, ``runtime``...) only, and, for the check
of a vectors file's dimension, ``gapsearch.data.vectors``, which itself imports nothing of gapsearch but
the errors.
"""

from gapsearch.spec.data import (
    ClassFilesData,
    DataSpec,
    DelimitedData,
    DirectoryData,
    JsonLinesData,
    KerasData,
    ParquetData,
    SyntheticData,
    TextSettings,
)
from gapsearch.spec.hyperparameters import HYPERPARAMETER_NAMES, Hyperparameters
from gapsearch.spec.loader import load_study, parse_study
from gapsearch.spec.space import Choice, ParamSpec, Range
from gapsearch.spec.study import DEFAULT_STORAGE, StudySpec

__all__ = [
    "DEFAULT_STORAGE",
    "HYPERPARAMETER_NAMES",
    "Choice",
    "ClassFilesData",
    "DataSpec",
    "DelimitedData",
    "DirectoryData",
    "JsonLinesData",
    "KerasData",
    "ParquetData",
    "Hyperparameters",
    "ParamSpec",
    "Range",
    "StudySpec",
    "SyntheticData",
    "TextSettings",
    "load_study",
    "parse_study",
]
