"""Completeness of the exact decomposition, against the real pooling layers, under TensorFlow and torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import cli_env

CHECK = """
import json, sys
import numpy as np
import keras
from gapsearch.explain.explainer import Explainer
from gapsearch.models.builder import build_model
from gapsearch.spec.hyperparameters import Hyperparameters

rng = np.random.default_rng(3)
report = {"backend": keras.backend.backend()}
SETTINGS = {"attention-heads": {"attention_heads": 2, "attention_null": True, "attention_temperature": 0.5}}
for pooling in ("average", "attention", "max", "attention-heads"):
    for n_classes in (2, 3):
        hp = Hyperparameters(
            embedding_dim=6, filters=5, pooling=pooling.split("-")[0], sequence_length=16, kernel_size=3,
            **SETTINGS.get(pooling, {}),
        )
        model = build_model(hp, vocabulary_size=40, n_classes=n_classes)
        for weight in model.weights:  # random weights, biases included, so no term is zero by construction
            weight.assign(rng.normal(0, 0.5, size=weight.shape).astype("float32"))
        ids = rng.integers(2, 40, size=(12, 16)).astype("int32")
        for row, length in enumerate(rng.integers(0, 17, size=12)):
            ids[row, length:] = 0
        explainer = Explainer(model, n_classes)
        head_input = keras.Model(model.input, model.get_layer("output").input)
        x = keras.ops.convert_to_numpy(head_input(ids)).astype(np.float32)
        kernel, bias = (w.astype(np.float32) for w in model.get_layer("output").get_weights())
        logits = x @ kernel + bias  # float32, from the real pooling layer's output
        worst = 0.0
        padded = 0.0
        for cls in range(n_classes):
            for row, item in enumerate(explainer.explain(ids, class_index=cls)):
                logit = logits[row, 0] * (1 if cls == 1 else -1) if n_classes == 2 else logits[row, cls]
                worst = max(worst, abs(item.bias + item.contributions.sum() - float(logit)))
                padded = max(padded, float(np.abs(item.contributions[ids[row] == 0]).max(initial=0.0)))
        entry = {"method": explainer.method, "completeness": worst, "padded": padded}
        if pooling == "max":
            features = explainer.features(ids)["conv1d_1_masked"]
            real = ids != 0
            winners = np.argmax(np.where(real[..., None], features, -np.inf), axis=1)
            from gapsearch.explain.decomposition import decompose
            found = decompose(explainer.structure, {"conv1d_1_masked": features}, real, kernel, bias, 0, {})
            rows = real.any(axis=1)
            entry["winners_equal"] = bool((found.winners["max_pooling"][rows] == winners[rows]).all())
            entry["winners_real"] = bool(real[np.nonzero(rows)[0][:, None], found.winners["max_pooling"][rows]].all())
        report[f"{pooling}/{n_classes}"] = entry
print("RESULT " + json.dumps(report))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_contributions_plus_bias_equal_the_logit(backend):
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        env=cli_env({"KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, result.stderr[-2000:]
    report = json.loads(lines[-1].removeprefix("RESULT "))
    assert report["backend"] == backend
    for pooling in ("average", "attention", "max", "attention-heads"):  # two heads, a null slot, temperature 0.5
        for n_classes in (2, 3):
            entry = report[f"{pooling}/{n_classes}"]
            assert entry["method"] == "exact"
            assert entry["completeness"] < 1e-4, (pooling, n_classes, entry)
            assert entry["padded"] == 0.0
    for n_classes in (2, 3):
        assert report[f"max/{n_classes}"]["winners_equal"] and report[f"max/{n_classes}"]["winners_real"]


def test_a_hidden_dense_layer_goes_to_occlusion_and_says_why():
    from gapsearch.explain.explainer import Explainer
    from gapsearch.models.builder import build_model
    from gapsearch.spec.hyperparameters import Hyperparameters

    model = build_model(
        Hyperparameters(embedding_dim=4, filters=3, pooling="average", sequence_length=8, dense_units=4),
        vocabulary_size=20,
        n_classes=2,
    )
    explainer = Explainer(model, 2)
    assert explainer.method == "occlusion"
    assert "a hidden dense layer ('dense') sits between the encoder and the output" in explainer.rule
    ids = np.array([[3, 4, 5, 0, 0, 0, 0, 0]], dtype="int32")
    (item,) = explainer.explain(ids)
    assert (item.contributions[3:] == 0).all()


def test_through_one_relu_convolution_each_tap_term_goes_to_the_token_it_reads():
    """Against a loop over steps, channels and taps: active channel value = bias + one term per tap."""
    from gapsearch.explain.explainer import Explainer
    from gapsearch.models.builder import build_model
    from gapsearch.spec.hyperparameters import Hyperparameters

    rng = np.random.default_rng(5)
    model = build_model(
        Hyperparameters(embedding_dim=4, filters=3, pooling="average", sequence_length=8, kernel_size=3),
        vocabulary_size=20,
        n_classes=2,
    )
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.5, size=weight.shape).astype("float32"))
    ids = np.array([[3, 4, 5, 6, 7, 0, 0, 0], [9, 2, 11, 12, 13, 14, 15, 16]], dtype="int32")
    explainer = Explainer(model, 2)
    (segment,) = explainer.structure.segments
    assert (segment.conv, segment.conv_input, segment.conv_offsets) == ("conv1d_1", "embedding_masked", (-1, 0, 1))
    table = model.get_layer("embedding").get_weights()[0].astype(np.float64)
    kernel, conv_bias = (w.astype(np.float64) for w in model.get_layer("conv1d_1").get_weights())
    head = model.get_layer("output").get_weights()[0][:, 0].astype(np.float64)  # class 1's logit
    for row, item in zip(ids, explainer.explain(ids, class_index=1), strict=True):
        length = int((row != 0).sum())
        expected = np.zeros(len(row))
        for t in range(length):
            taps = [(j, t + o) for j, o in enumerate((-1, 0, 1)) if 0 <= t + o < length]
            for c in range(3):
                terms = [(u, table[row[u]] @ kernel[j, :, c]) for j, u in taps]
                if conv_bias[c] + sum(v for _, v in terms) <= 0:
                    continue  # relu inactive: the channel's share is 0
                for u, value in terms:
                    expected[u] += head[c] / length * value
                for _, u in taps:
                    expected[u] += head[c] / length * conv_bias[c] / len(taps)
        np.testing.assert_allclose(item.contributions, expected, atol=1e-5)
        assert (item.contributions[length:] == 0).all()


def test_every_model_of_the_family_is_explained_exactly_or_by_occlusion_saying_why():
    """The explanation document of each pooling and encoder the builder makes: exact ones add up to the logit."""
    from gapsearch.explain.decomposition import TAP_RULE, WINDOW_RULE
    from gapsearch.explain.summary import model_explanation
    from gapsearch.models.builder import build_model
    from gapsearch.spec.hyperparameters import Hyperparameters

    rng = np.random.default_rng(11)
    vocabulary = ["", "[UNK]"] + [f"w{i}" for i in range(28)]
    variants = {
        "average": ("exact", {}),
        "average_max": ("exact", {"pooling": "average_max"}),
        "no encoder": ("exact", {"encoder": "none"}),
        "widths 2, 3 and 4, max": ("exact", {"kernel_sizes": (2, 3, 4), "pooling": "max"}),
        "two stacked convolutions": ("exact", {"conv_layers": 2}),
        "attention heads and null slot": (
            "exact",
            {"pooling": "attention", "attention_heads": 3, "attention_null": True},
        ),
        "gem": ("a GeneralizedMeanPooling1D layer ('gem_pooling') sits between", {"pooling": "gem"}),
        "mixed": ("a MixedPooling1D layer ('mixed_pooling') sits between", {"pooling": "mixed"}),
        "flatten": ("a MaskedFlatten layer ('flatten') sits between", {"pooling": "flatten"}),
        "lstm": ("a Bidirectional layer ('bidirectional_lstm') whose steps", {"encoder": "lstm", "rnn_units": 3}),
        "calibration": ("a SqueezeExcitation1D layer ('squeeze_excitation') whose steps", {"calibration": "se"}),
        "unmasked": ("is not given the padding mask of the token ids", {"mask_padding": False}),
    }
    for name, (expected, settings) in variants.items():
        hp = Hyperparameters(**{"embedding_dim": 6, "filters": 4, "sequence_length": 12, **settings})
        model = build_model(hp, vocabulary_size=30, n_classes=3)
        for weight in model.weights:
            weight.assign(rng.normal(0, 0.5, size=weight.shape).astype("float32"))
        ids = rng.integers(2, 30, size=(12, 12)).astype("int32")
        for row, length in enumerate(rng.integers(0, 13, size=12)):
            ids[row, length:] = 0
        document = model_explanation(model, vocabulary, ["a", "b", "c"], ids, rng.integers(0, 3, size=12))
        if expected == "exact":
            assert document["method"] == "exact" and document["channels"]["available"], name
            one_conv = name in ("average", "average_max", "widths 2, 3 and 4, max", "attention heads and null slot")
            assert document["rule"].endswith(TAP_RULE if one_conv else WINDOW_RULE), name
            for example in document["examples"]:
                total = example["bias"] + sum(t["contribution"] for t in example["tokens"])
                assert abs(total - example["score"]) < 1e-4, (name, total, example["score"])
        else:
            assert document["method"] == "occlusion", name
            assert expected in document["rule"] and expected in document["channels"]["reason"], name
        assert document["examples"] and all(4 <= len(e["tokens"]) <= 12 for e in document["examples"]), name
