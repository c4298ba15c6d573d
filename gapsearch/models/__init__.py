"""Keras models for text classification: the custom layers and the builder.

Nothing here is imported eagerly: ``gapsearch.models.builder`` and
``gapsearch.models.layers`` import Keras, so import them where a model is built.
"""
