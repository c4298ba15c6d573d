"""The pooling table is complete: every ``pooling:`` a study file may name has its layers, FLOPs and explanation.

A pooling left out of the table, of the FLOPs or of the explanations would otherwise fall back silently
(a layer counted at 0 FLOPs, an explanation by occlusion that nobody chose).
"""

from __future__ import annotations

import inspect

import keras
import pytest

from gapsearch.explain import NotExact, Structure, find_structure
from gapsearch.models.builder import build_model
from gapsearch.models.costs import flops_per_example, layer_flops
from gapsearch.models.layers import MaskedGlobalPooling1D, MaskedPooling1D
from gapsearch.models.poolings import POOLING_LAYERS
from gapsearch.spec.hyperparameters import POOLINGS, Hyperparameters

TINY = {"sequence_length": 8, "embedding_dim": 6, "filters": 5, "kernel_size": 3, "attention_units": 4}


def tiny_model(pooling: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_model(Hyperparameters(**TINY, pooling=pooling), vocabulary_size=40, n_classes=2)


def test_every_pooling_of_the_study_file_has_one_line_in_the_table_and_no_line_more():
    assert list(POOLING_LAYERS) == list(POOLINGS)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_every_pooling_is_made_of_concrete_classes_that_say_their_name_and_their_explanation(pooling):
    layers = POOLING_LAYERS[pooling]
    assert layers, pooling
    for layer in layers:
        assert issubclass(layer, MaskedPooling1D) and not inspect.isabstract(layer), layer
        assert isinstance(layer.layer_name, str) and isinstance(layer.explained_exactly, bool), layer


@pytest.mark.parametrize("pooling", POOLINGS)
def test_every_pooling_costs_flops_of_its_own_in_a_model_that_uses_it(pooling):
    model = tiny_model(pooling)
    poolings = [layer for layer in model.layers if isinstance(layer, MaskedPooling1D)]
    assert [type(layer) for layer in poolings] == list(POOLING_LAYERS[pooling])
    steps = TINY["sequence_length"]  # what a trial counts at: with length buckets the model's steps are None
    for layer in poolings:
        inputs = layer.input[0] if isinstance(layer.input, list) else layer.input  # (features, then the mask)
        assert layer_flops(layer, steps) == layer.flops(steps, inputs.shape[-1]) > 0, layer.name
    pooling_flops = sum(layer_flops(layer, steps) for layer in poolings)
    assert flops_per_example(model, steps) > pooling_flops  # the convolution and the output count besides


def test_a_pooling_that_forgets_its_flops_cannot_be_made():
    class Forgetful(MaskedGlobalPooling1D):
        layer_name = "forgetful"
        explained_exactly = False

        def call(self, inputs, mask=None):
            return keras.ops.sum(inputs, axis=1)

    with pytest.raises(TypeError, match="abstract method"):
        Forgetful()


@pytest.mark.parametrize("pooling", POOLINGS)
def test_every_pooling_is_explained_exactly_or_by_the_fallback_it_states(pooling):
    layers = POOLING_LAYERS[pooling]
    found = find_structure(tiny_model(pooling))
    if all(layer.explained_exactly for layer in layers):
        assert isinstance(found, Structure), found
        assert [segment.pooling for segment in found.segments] == [layer.layer_name for layer in layers]
    else:
        # Occlusion explains it, and the reason names the layer the exact decomposition cannot read.
        assert isinstance(found, NotExact)
        stated = [layer.layer_name for layer in layers if not layer.explained_exactly]
        assert any(repr(name) in found.reason for name in stated), found.reason
