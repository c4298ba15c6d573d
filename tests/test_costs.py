"""Costs: parameters, FLOPs by hand from the layer shapes, latency; the same under every backend."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from gapsearch.models.builder import build_model
from gapsearch.models.costs import flops_per_example, latency_ms, measure_costs
from gapsearch.spec.hyperparameters import Hyperparameters
from tests.conftest import cli_env, require_module

STEPS, EMBED, VOCAB = 20, 8, 50


def model_of(n_classes: int = 3, **values):
    hp = Hyperparameters(sequence_length=STEPS, embedding_dim=EMBED, length_buckets=0, **values)
    return build_model(hp, vocabulary_size=VOCAB, n_classes=n_classes)


def test_conv1d_attention_dense():
    model = model_of(filters=6, conv_layers=2, pooling="attention", attention_units=4, attention_heads=1, dense_units=3)
    conv = 2 * 3 * EMBED * 6 * STEPS + 2 * 3 * 6 * 6 * STEPS
    # scorer (tanh hidden layer and score) + exp, sum, divide + weighted sum, at every step
    attention = STEPS * (2 * 6 * 4 + 2 * 4 + 3 + 2 * 6)
    dense = 2 * 6 * 3 + 2 * 3 * 3
    assert flops_per_example(model) == conv + attention + dense


@pytest.mark.parametrize(("encoder", "gates"), [("lstm", 4), ("gru", 3)])
def test_bidirectional_rnn_with_average_and_max_pooling(encoder, gates):
    units = 5
    model = model_of(encoder=encoder, rnn_units=units, pooling="average_max", dense_units=0)
    per_direction = 2 * STEPS * (EMBED * gates * units + units * gates * units)
    pooling = 2 * STEPS * (2 * units)  # average and max, each reads every step of both directions
    output = 2 * (2 * 2 * units) * 3
    assert flops_per_example(model) == 2 * per_direction + pooling + output


def test_pooling_straight_over_the_embedding_and_the_counts():
    model = model_of(n_classes=2, encoder="none", pooling="max")
    assert flops_per_example(model) == STEPS * EMBED + 2 * EMBED * 1  # the lookup itself costs nothing
    batch = np.ones((16, STEPS), dtype="int32")
    costs = measure_costs(model, batch)
    assert costs.params == model.count_params() == VOCAB * EMBED + EMBED + 1
    assert costs.embedding_params == VOCAB * EMBED
    assert costs.flops == STEPS * EMBED + 2 * EMBED
    assert costs.latency_ms > 0 and costs.latency_batch_size == 16
    # Stored once each, under the names the dashboard shows (the old duplicates are only read).
    assert set(costs.as_attrs()) == {"params_total", "params_embedding", "flops", "latency_ms", "latency_batch_size"}
    untimed = measure_costs(model, batch, latency=False)  # what a trial records when no bound names latency
    assert (untimed.params, untimed.flops, untimed.latency_ms) == (costs.params, costs.flops, None)
    assert set(untimed.as_attrs()) == {"params_total", "params_embedding", "flops"}


class ScriptedCalls:
    """Takes the scripted seconds on each predict_on_batch call, so the median is known."""

    def __init__(self, seconds):
        self.seconds = list(seconds)
        self.batches = []

    def predict_on_batch(self, batch):
        self.batches.append(batch)
        time.sleep(self.seconds.pop(0))


def test_latency_is_the_median_of_timed_calls_after_warm_up():
    batch = np.ones((8, STEPS), dtype="int32")
    calls = ScriptedCalls([0.3, 0.01, 0.09, 0.05])  # the slow first call is the warm-up
    assert latency_ms(calls, batch, warmup=1, repeats=3) == pytest.approx(50.0, abs=15.0)
    assert len(calls.batches) == 4 and all(b is batch for b in calls.batches)
    model = model_of(filters=4)  # and on a real model: a positive time, the same batch each call
    assert latency_ms(model, batch, warmup=1, repeats=3) > 0


def test_the_torch_backend_counts_the_same():
    require_module("torch")
    probe = (
        "import json; from tests.test_costs import model_of; from gapsearch.models.costs import flops_per_example\n"
        "m = model_of(filters=6, conv_layers=2, pooling='attention', attention_units=4, attention_heads=1,\n"
        "             dense_units=3)\n"
        "print(json.dumps([flops_per_example(m), m.count_params()]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=cli_env({"KERAS_BACKEND": "torch"}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    model = model_of(filters=6, conv_layers=2, pooling="attention", attention_units=4, attention_heads=1, dense_units=3)
    assert json.loads(result.stdout.splitlines()[-1]) == [flops_per_example(model), model.count_params()]
