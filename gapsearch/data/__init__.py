"""Where a study's texts come from and how they become arrays.

* :mod:`~gapsearch.data.sources`: one module per source format (CSV/TSV, JSON Lines, Parquet, a
  folder per class, a file per class, Keras' built-in sets, the synthetic generator).
* :mod:`~gapsearch.data.labels`: the task (inferred or declared) and the ``y`` arrays.
* :mod:`~gapsearch.data.splits`: seeded, stratified hold-out splits and folds.
* :mod:`~gapsearch.data.text`: standardizing, tokenizing, the vocabulary, padded id arrays.
* :mod:`~gapsearch.data.dataset`: :func:`load_splits` ties them together for a study.
* :mod:`~gapsearch.data.cache`: the vectorized arrays on disk, shared by trials, workers and runs.
* :mod:`~gapsearch.data.columns` and :mod:`~gapsearch.data.starter`: a data file's text and label columns
  found, and a starter study file written for it (``gapsearch init``).

NumPy and plain Python only (and pyarrow for Parquet): nothing here imports Keras or TensorFlow,
except the Keras built-in sets' download, so every Keras backend trains on the same ids and
``gapsearch validate`` stays fast.

May import: the foundation, ``gapsearch.spec`` and ``gapsearch.storage``; never models or training.
"""

from gapsearch.data.dataset import (
    VECTORIZED_CACHE_SIZE,
    LabeledTexts,
    TextSplits,
    VectorizedSplits,
    load_splits,
)
from gapsearch.data.labels import LabelEncoding, label_encoding
from gapsearch.data.sources import Examples, read_source
from gapsearch.data.splits import stratified_folds, stratified_split
from gapsearch.data.synthetic import make_synthetic, synthetic_lexicon
from gapsearch.data.text import (
    OOV_ID,
    OOV_TOKEN,
    PAD_ID,
    PAD_TOKEN,
    Vocabulary,
    length_percentiles,
    standardize,
    tokenize,
    vectorize,
)

__all__ = [
    "OOV_ID",
    "OOV_TOKEN",
    "PAD_ID",
    "PAD_TOKEN",
    "VECTORIZED_CACHE_SIZE",
    "Examples",
    "LabelEncoding",
    "LabeledTexts",
    "TextSplits",
    "VectorizedSplits",
    "Vocabulary",
    "label_encoding",
    "length_percentiles",
    "load_splits",
    "make_synthetic",
    "read_source",
    "standardize",
    "stratified_folds",
    "stratified_split",
    "synthetic_lexicon",
    "tokenize",
    "vectorize",
]
