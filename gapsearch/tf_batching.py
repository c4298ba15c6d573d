"""TensorFlow only: length-bucketed batches as a prefetching ``tf.data`` pipeline.

Keras turns a PyDataset into ``tf.data`` with a signature taken from its first two batches, so a
batch of another length would not fit it. This pipeline declares the length dimension open, and
prefetches the next batches while the current one trains.
"""

from __future__ import annotations

import itertools

import tensorflow as tf

from gapsearch.batching import LengthBucketedBatches


def as_tf_dataset(batches: LengthBucketedBatches) -> tf.data.Dataset:
    """The batches of ``batches``, a new epoch's draw each time the dataset is iterated."""
    epochs = itertools.count()

    def generate():
        epoch = next(epochs)
        for length, rows in batches.batches_of_epoch(epoch):
            yield batches.batch(length, rows)

    signature = (
        tf.TensorSpec(shape=(None, None), dtype=tf.as_dtype(batches.x.dtype)),
        tf.TensorSpec(shape=(None, *batches.y.shape[1:]), dtype=tf.as_dtype(batches.y.dtype)),
    )
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(tf.data.AUTOTUNE)
