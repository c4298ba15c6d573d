"""The model family through the real CLI: the study file's new keys, their errors, a run under torch, compare."""

import gzip

import numpy as np
import optuna
import pytest

from gapsearch.data.synthetic import synthetic_lexicon
from tests.conftest import TINY_STUDY, cli, gapsearch, require_module

BASE = TINY_STUDY.split("search_space:")[0].replace("n_trials: 3", "n_trials: 2").replace("epochs: 2", "epochs: 1")


def write_vectors(path, dimension: int = 5) -> int:
    """A gzipped GloVe-style file (no header) with vectors for every other distractor and every cue word."""
    distractors, cues = synthetic_lexicon(3)
    words = [*distractors[::2], *(word for words in cues for word in words)]
    rng = np.random.default_rng(0)
    with gzip.open(path, "wt") as handle:
        for word in words:
            handle.write(word + " " + " ".join(f"{x:.4f}" for x in rng.standard_normal(dimension)) + "\n")
    return len(words)


@pytest.mark.parametrize(
    ("model_lines", "files", "message"),
    [
        ("  kernel_sizes: []\n", {}, "model.kernel_sizes: needs at least 1 item(s), but got []"),
        (
            "  kernel_sizes: [3, 4]\n  kernel_size: 3\n",
            {},
            "model.kernel_sizes: kernel_size and kernel_sizes exclude each other",
        ),
        ("  embedding: {vectors: missing.vec}\n", {}, "model.embedding.vectors: no such file 'missing.vec'"),
        (
            "  embedding: {vectors: v.vec}\n  embedding_dim: 50\n",
            {"v.vec": "2 3\nbazo 0.1 0.2 0.3\ndefa 1 2 3\n"},
            "model.embedding_dim: 50 disagrees with the vectors in v.vec, which have dimension 3",
        ),
        (
            "  embedding: {vectors: v.txt}\n",
            {"v.txt": "bazo 0.1 0.2 0.3\ndefa 0.1 x 0.3\n"},
            "v.txt, line 2: 'x' in the vector of 'defa' is not a number",
        ),
        (
            "  embedding: {vectors: v.txt}\n",
            {"v.txt": "bazo 0.1 0.2 0.3\ndefa 0.1 0.2\n"},
            "v.txt, line 2: expected a word and 3 numbers separated by spaces, but got 2 field(s) after 'defa'",
        ),
        ("  optimizer: adagrad\n", {}, "model.optimizer: 'adagrad' is not allowed; expected 'adam', 'adamw'"),
        ("  pooling: flatten\n  length_buckets: 4\n", {}, "cannot be used with pooling: flatten"),
    ],
)
def test_bad_values_get_one_line_and_exit_2(tmp_path, model_lines, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "study.yaml").write_text(BASE + model_lines)

    result = cli("validate", "study.yaml", cwd=tmp_path)

    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "study.yaml" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_the_new_keys_are_in_the_schema(tmp_path):
    schema = cli("schema", cwd=tmp_path, check=True).stdout
    for key in (
        "kernel_sizes",
        "calibration",
        "se_ratio",
        "attention_heads",
        "attention_null",
        "gem_p",
        "optimizer",
        "max_norm",
        "vectors",
        "trainable",
        "flatten",
        "mixed",
    ):
        assert key in schema, key


def test_a_study_with_the_new_options_runs_under_torch_and_compares(tmp_path):
    require_module("torch")
    write_vectors(tmp_path / "vectors.txt.gz")
    (tmp_path / "study.yaml").write_text(
        BASE.replace("sampler: {type: random}", "sampler: {type: grid}").replace("n_trials: 2", "n_trials: 4")
        + "  embedding: {vectors: vectors.txt.gz, trainable: false}\n  kernel_sizes: [2, 3]\n  calibration: se\n"
        "  attention_heads: 2\n  attention_null: true\n  optimizer: adadelta\n  learning_rate: 1.0\n  max_norm: 3.0\n"
        "search_space:\n  pooling: [gem, mixed, flatten, attention]\n"
    )

    run = gapsearch("run", "study.yaml", "--no-progress", cwd=tmp_path, env={"KERAS_BACKEND": "torch"}, check=True)

    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    assert sorted(t.params["pooling"] for t in study.trials) == ["attention", "flatten", "gem", "mixed"]
    assert {t.state.name for t in study.trials} == {"COMPLETE"} and {t.user_attrs["backend"] for t in study.trials} == {
        "torch"
    }
    coverage = {t.user_attrs["vectors_coverage"] for t in study.trials}
    assert len(coverage) == 1 and 0.0 < coverage.pop() < 1.0  # half the distractors have no vector
    assert "vectors for " in run.stdout and "distinct words of the training texts" in run.stdout
    # Flatten's output unit reads 30 steps x (2 widths x 8 filters) values, gem's 16; gem has 16 exponents.
    params = {t.params["pooling"]: t.user_attrs["params_total"] for t in study.trials}
    assert params["flatten"] - params["gem"] == (30 * 16 - 16) - 16

    compared = cli("compare", "study.yaml", "--param", "pooling", "--seeds", "2", cwd=tmp_path, check=True)
    rows = {line.split()[0]: line.split() for line in compared.stdout.splitlines() if line.split()[:1]}
    for pooling in ("gem", "mixed", "flatten", "attention"):
        assert int(rows[pooling][5]) == params[pooling], (pooling, rows[pooling])  # name mean [ci] std params
