"""TensorFlow only: length-bucketed batches as a prefetching ``tf.data`` pipeline.

Keras turns a PyDataset into ``tf.data`` with a signature taken from its first two batches, so a
batch of another length would not fit it. This pipeline declares the length dimension open. Python
runs once an epoch, to draw the epoch's batches (:meth:`LengthBucketedBatches.batches_of_epoch`, so
they are the PyDataset's own); each batch is then gathered and cut inside ``tf.data``, in parallel
with training, with no Python call per batch.
"""

from __future__ import annotations

import itertools

import numpy as np
import tensorflow as tf

from gapsearch.training.batching import LengthBucketedBatches


def as_tf_dataset(batches: LengthBucketedBatches) -> tf.data.Dataset:
    """The batches of ``batches``, a new epoch's draw each time the dataset is iterated."""
    epochs = itertools.count(batches.epoch)
    n_batches, batch_size = len(batches), batches.batch_size

    def plan() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next epoch's batches: each one's rows (padded with row 0), length and number of rows."""
        rows = np.zeros((n_batches, batch_size), dtype=np.int64)
        lengths = np.zeros(n_batches, dtype=np.int64)
        sizes = np.zeros(n_batches, dtype=np.int64)
        for index, (length, members) in enumerate(batches.batches_of_epoch(next(epochs))):
            rows[index, : len(members)] = members
            lengths[index], sizes[index] = length, len(members)
        return rows, lengths, sizes

    def epoch_plan(_: tf.Tensor) -> tf.data.Dataset:
        rows, lengths, sizes = tf.numpy_function(plan, [], [tf.int64] * 3, stateful=True)
        rows.set_shape((n_batches, batch_size))
        lengths.set_shape((n_batches,))
        sizes.set_shape((n_batches,))
        return tf.data.Dataset.from_tensor_slices((rows, lengths, sizes))

    x, y = tf.constant(batches.x), tf.constant(batches.y)

    full_width = batches.lengths == (batches.x.shape[1],)  # one bucket, no cut: keep the static shape

    def gather(rows: tf.Tensor, length: tf.Tensor, size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        members = rows[:size]
        texts = tf.gather(x, members)
        return (texts if full_width else texts[:, :length]), tf.gather(y, members)

    dataset = tf.data.Dataset.range(1).flat_map(epoch_plan)
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(tf.data.AUTOTUNE)
