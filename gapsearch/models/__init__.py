"""Keras models for text classification: the custom layers and the builder.

Nothing here is imported eagerly: ``gapsearch.models.builder`` and
``gapsearch.models.layers`` import Keras, so import them where a model is built.

May import: the foundation, ``gapsearch.spec``, ``gapsearch.storage`` and ``gapsearch.data`` (the
raw-text model vectorizes as the data did); never training, the search or the results.
"""
