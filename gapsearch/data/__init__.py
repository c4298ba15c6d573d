"""Where a study's texts come from and how they become arrays.

* :mod:`~gapsearch.data.synthetic`: a generated task on which modelling choices matter.
* :mod:`~gapsearch.data.delimited`: CSV and TSV files.
* :mod:`~gapsearch.data.splits`: seeded, stratified hold-out splits.
* :mod:`~gapsearch.data.text`: standardizing, tokenizing, the vocabulary, padded id arrays.
* :mod:`~gapsearch.data.dataset`: :func:`load_splits` ties them together for a study.

NumPy and plain Python only: nothing here imports Keras or TensorFlow, so every Keras backend
trains on the same ids and ``gapsearch validate`` stays fast.
"""

from gapsearch.data.dataset import (
    VECTORIZED_CACHE_SIZE,
    LabeledTexts,
    TextSplits,
    VectorizedSplits,
    load_splits,
)
from gapsearch.data.delimited import DelimitedRows, read_delimited, read_delimited_rows
from gapsearch.data.splits import stratified_split
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
    "DelimitedRows",
    "LabeledTexts",
    "TextSplits",
    "VectorizedSplits",
    "Vocabulary",
    "length_percentiles",
    "load_splits",
    "make_synthetic",
    "read_delimited",
    "read_delimited_rows",
    "standardize",
    "stratified_split",
    "synthetic_lexicon",
    "tokenize",
    "vectorize",
]
