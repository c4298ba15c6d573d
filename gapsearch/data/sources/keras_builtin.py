"""Keras' built-in ``imdb`` and ``reuters`` sets, turned back into texts so that gapsearch vectorizes them.

Keras downloads them on first use into ``~/.keras/datasets``. Offline, this fails with one line
that says so and how to point the study at local files instead. The download is the only thing
here that imports Keras.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from gapsearch.data.sources._base import Examples
from gapsearch.errors import DataError
from gapsearch.spec.data import KerasData

#: Seconds a download may wait for the network before it counts as offline.
DOWNLOAD_TIMEOUT = 20
_LOCAL_ALTERNATIVE = {
    "imdb": "format: parquet, train: ../shared/datasets/imdb/train.parquet, test: .../test.parquet",
    "reuters": "a CSV, TSV, JSON Lines or Parquet file (format: auto, train: reuters.csv)",
}
# Keras' index_from default: 0 padding, 1 start, 2 out-of-vocabulary, words from 3.
_INDEX_FROM = 3


@contextmanager
def _network_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def load(spec: KerasData) -> tuple[Examples, Examples]:
    """The (train, test) examples of the built-in set, each text rebuilt from Keras' word index."""
    from gapsearch.runtime import import_keras

    import_keras()
    import keras

    module = getattr(keras.datasets, spec.dataset)
    try:
        with _network_timeout(DOWNLOAD_TIMEOUT):
            (x_train, y_train), (x_test, y_test) = module.load_data()
            word_index = module.get_word_index()
    except Exception as error:  # noqa: BLE001 - any download failure (URLError, timeout, HTTP) reads the same
        reason = " ".join(str(error).split())[:160]
        raise DataError(
            f"data.dataset: {spec.dataset!r}: Keras could not download it ({type(error).__name__}: {reason}); "
            f"offline, download it elsewhere into ~/.keras/datasets or point the study at local files, "
            f"for example {_LOCAL_ALTERNATIVE[spec.dataset]}"
        ) from None
    words = {index + _INDEX_FROM: word for word, index in word_index.items()}

    def examples(name: str, sequences, labels) -> Examples:  # noqa: ANN001
        result = Examples(f"keras.datasets.{spec.dataset} ({name})")
        for row, (sequence, label) in enumerate(zip(sequences, labels, strict=True), start=1):
            result.texts.append(" ".join(words.get(int(i), "[UNK]") for i in sequence if int(i) >= _INDEX_FROM))
            result.labels.append(str(int(label)))
            result.locations.append(f"{result.source}, example {row}")
        return result

    return examples("train", x_train, y_train), examples("test", x_test, y_test)
