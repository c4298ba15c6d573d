"""Length-bucketed batches: each batch padded only as far as its longest bucket-mate needs.

Texts vary in length, and padding every one to ``sequence_length`` makes the encoder compute
over padding that the mask then throws away. Here texts are sorted into a few length buckets;
a batch holds texts of one bucket and is cut to that bucket's length. Only a few lengths ever
occur, so a compiled training step is traced a few times, not once per batch. The mask hides
the remaining padding, so each text's output and loss are what they would be fully padded.

Backend-agnostic: a :class:`keras.utils.PyDataset` over NumPy arrays. Under TensorFlow,
:mod:`gapsearch.training.tf_batching` streams the same batches through ``tf.data`` with prefetching.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from gapsearch.data.text import PAD_ID

#: Bucket lengths are rounded up to a multiple of this (kinder to vectorized kernels).
LENGTH_MULTIPLE = 8


def text_lengths(x: np.ndarray) -> np.ndarray:
    """The length of each row of padded ids: the position after its last non-padding id."""
    real = x != PAD_ID
    last_from_end = np.argmax(real[:, ::-1], axis=1)
    return np.where(real.any(axis=1), x.shape[1] - last_from_end, 0)


def bucket_lengths(lengths: np.ndarray, n_buckets: int, width: int, *, longest: int | None = None) -> tuple[int, ...]:
    """At most ``n_buckets`` padded lengths (ascending), the last one fitting every text.

    The bucket edges are quantiles of ``lengths`` (about equal numbers of texts per bucket), rounded up
    to a multiple of :data:`LENGTH_MULTIPLE` and capped at ``width`` (the padded arrays' width). The
    last edge fits ``longest`` (default: the longest of ``lengths``), so that another split's texts fit.
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets >= 1 must hold, but got {n_buckets}")
    longest = int(lengths.max(initial=0)) if longest is None else longest

    def rounded(length: float) -> int:
        return min(width, max(1, math.ceil(length / LENGTH_MULTIPLE) * LENGTH_MULTIPLE))

    edges = {rounded(longest)}
    if len(lengths):
        quantiles = np.quantile(lengths, [(i + 1) / n_buckets for i in range(n_buckets - 1)], method="higher")
        edges.update(rounded(q) for q in quantiles.tolist() if q < longest)
    return tuple(sorted(edges))


class LengthBucketedBatches(keras.utils.PyDataset):
    """Batches of ``(x, y)`` whose texts share a length bucket, each cut to its bucket's length.

    Hand it to Keras through :func:`gapsearch.training.fit.for_keras`: under TensorFlow, Keras would fix the batches'
    shape from the first two, and a batch of another length would then fail.

    With ``shuffle``, every epoch draws new batches (texts shuffled within their bucket) in a new
    order, from ``seed`` and the epoch number, so a run is reproducible. Without it (validation),
    batches keep the texts' order within each bucket.

    Args:
        x: Padded ids, ``(examples, steps)``, padding at the end.
        y: Labels, one per row of ``x``.
        batch_size: Texts per batch; a bucket's last batch may be smaller.
        lengths: The buckets' padded lengths, ascending (see :func:`bucket_lengths`); the last must
            fit every text of ``x``.
        shuffle: Whether each epoch reshuffles.
        seed: Seeds the shuffling.
        first_epoch: The epoch (0-based) whose batches come first: a resumed run's.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        batch_size: int,
        lengths: tuple[int, ...],
        shuffle: bool,
        seed: int = 0,
        first_epoch: int = 0,
    ) -> None:
        super().__init__()
        text_length = text_lengths(x)
        if len(x) and int(text_length.max()) > lengths[-1]:
            raise ValueError(f"a text of {int(text_length.max())} ids does not fit the longest bucket ({lengths[-1]})")
        self.x = x
        self.y = y
        self.batch_size = batch_size
        self.lengths = lengths
        self.shuffle = shuffle
        self.seed = seed
        bucket_of = np.searchsorted(np.asarray(lengths), text_length, side="left")
        self._members = [np.flatnonzero(bucket_of == b) for b in range(len(lengths))]
        self._n_batches = sum(math.ceil(len(m) / batch_size) for m in self._members)
        self.epoch = first_epoch
        self._batches = self.batches_of_epoch(first_epoch)

    def batches_of_epoch(self, epoch: int) -> list[tuple[int, np.ndarray]]:
        """``(bucket length, row indices)`` of each batch of ``epoch``, in the order they are trained."""
        rng = np.random.default_rng([self.seed, epoch]) if self.shuffle else None
        batches: list[tuple[int, np.ndarray]] = []
        for length, members in zip(self.lengths, self._members, strict=True):
            rows = rng.permutation(members) if rng is not None else members
            batches.extend((length, rows[i : i + self.batch_size]) for i in range(0, len(rows), self.batch_size))
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def batch(self, length: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.x[rows, :length], self.y[rows]

    @property
    def num_batches(self) -> int:
        return self._n_batches

    def __len__(self) -> int:
        return self._n_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.batch(*self._batches[index])

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._batches = self.batches_of_epoch(self.epoch)
