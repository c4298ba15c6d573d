"""Training one model: ``fit`` (Keras' fit with early stopping on the monitored metric, the run's
history, its validation confusion counts and resuming from a checkpoint), length-bucketed batches
(``batching``, and ``tf_batching``, the TensorFlow-only ``tf.data`` pipeline), and per-epoch checkpoints
(``checkpoints``, and ``resuming``, the callbacks that save them and resume early stopping).

It knows nothing of studies or trials: it trains the model it is given on the arrays it is given.

May import: the foundation (``gapsearch.errors``, ``runtime``...), ``gapsearch.spec``, ``gapsearch.data``
and ``gapsearch.models``; never the search, the workers or the results.
"""
