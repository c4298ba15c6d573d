"""export -> a fresh process loads the file -> predict on raw strings gives the trial's own scores.

export and predict run in this process (``cli``) but where a fresh process is the point: loading the exported file
in a process that never trained, and the backend a process starts with.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore, download_artifact, get_all_artifact_meta

from gapsearch.data import load_splits
from gapsearch.results.console import format_value
from gapsearch.spec import load_study
from tests.conftest import cli, cli_env, gapsearch

ODD_TEXTS = ["", "   ", "UPPER <b>Case</b>, punctuation!!! don't 'quote'", "x " * 200, "naïve café — «ü»"]


@pytest.fixture(scope="module")
def exported(finished_study, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "model.keras"
    result = cli("export", "tiny.yaml", "-o", str(path), cwd=finished_study.folder, check=True)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    best = study.best_trial
    assert result.stdout == f"trial {best.number} (val_accuracy={format_value(best.value)}) exported to {path}\n"
    return path


@pytest.fixture(scope="module")
def reference(finished_study, tmp_path_factory):
    """The best trial's own id model (the stored artifact's) and its inputs, vectorized as in training."""
    import keras

    import gapsearch.models.text_classifier  # noqa: F401 - registers the classes

    spec = load_study(finished_study.study_file)
    splits = load_splits(spec.data, spec.base_dir, spec.seed)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    best = study.best_trial
    meta = next(m for m in get_all_artifact_meta(best, storage=study._storage) if m.filename == "model.keras")
    path = tmp_path_factory.mktemp("reference") / "trial.keras"
    download_artifact(
        artifact_store=FileSystemArtifactStore(finished_study.artifacts),
        file_path=str(path),
        artifact_id=meta.artifact_id,
    )
    with zipfile.ZipFile(path) as archive:  # the trial's artifact is the raw-text model around the id model
        assert json.loads(archive.read("config.json"))["class_name"] == "TextClassifier"
    trained = keras.saving.load_model(path).classifier
    vocabulary = splits.vocabulary(spec.model.max_tokens)
    return spec, splits, vocabulary, trained, list(splits.validation.texts) + ODD_TEXTS


def expected_scores(reference_, texts):
    from gapsearch.data.text import standardize, tokenize, vectorize

    spec, splits, vocabulary, trained, _ = reference_
    tokens = [tokenize(standardize(t, splits.settings)) for t in texts]
    ids = vectorize(tokens, vocabulary, spec.model.sequence_length, splits.settings.truncation)
    p = np.asarray(trained.predict(ids, verbose=0), dtype=np.float64)
    return np.concatenate([1 - p, p], axis=1), ids


def test_predict_in_a_fresh_process_gives_the_trials_scores(exported, reference, tmp_path):
    texts = reference[4]
    (tmp_path / "texts.txt").write_text("\n".join(t if t.strip() else "blank" for t in texts) + "\n")
    texts = [t if t.strip() else "blank" for t in texts]
    result = gapsearch("predict", str(exported), "--input", "texts.txt", "--format", "json", cwd=tmp_path, check=True)
    records = json.loads(result.stdout)
    assert [r["text"] for r in records] == texts
    expected, _ = expected_scores(reference, texts)
    got = np.array([[r["probabilities"]["class_0"], r["probabilities"]["class_1"]] for r in records])
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert [r["label"] for r in records] == [("class_0", "class_1")[i] for i in expected.argmax(axis=1)]
    assert [r["score"] for r in records] == [max(r["probabilities"].values()) for r in records]


def test_the_table_names_each_label_and_its_score(exported, reference, tmp_path):
    result = cli("predict", str(exported), "a first text", "another one", cwd=tmp_path, check=True)
    expected, _ = expected_scores(reference, ["a first text", "another one"])
    labels = [("class_0", "class_1")[i] for i in expected.argmax(axis=1)]
    assert result.stdout.splitlines() == [
        "label    score     text",
        f"{labels[0]}  {expected[0].max():.6f}  a first text",
        f"{labels[1]}  {expected[1].max():.6f}  another one",
    ]


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_keras_load_model_alone_reloads_it_with_the_vocabulary_it_trained_with(exported, reference, backend):
    texts = ["a first text", *ODD_TEXTS]
    script = (
        "import json, sys, keras\n"
        "import gapsearch.models.text_classifier\n"
        "model = keras.saving.load_model(sys.argv[1])\n"
        "print(json.dumps({'vocabulary': list(model.vocabulary.tokens), 'classes': list(model.class_names),\n"
        "                  'scores': model.predict(json.loads(sys.argv[2]), verbose=0).tolist()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(exported), json.dumps(texts)],
        capture_output=True,
        text=True,
        env=cli_env({"KERAS_BACKEND": backend}),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert tuple(loaded["vocabulary"]) == reference[2].tokens
    assert loaded["classes"] == ["class_0", "class_1"]
    expected, _ = expected_scores(reference, texts)
    np.testing.assert_allclose(np.array(loaded["scores"])[:, 0], expected[:, 1], atol=1e-5, rtol=0)


def test_a_savedmodel_serves_raw_strings_with_the_same_ids_and_scores(finished_study, reference, tmp_path):
    vocabulary = reference[2].tokens[2:]
    words = list(vocabulary[:60])
    texts = [
        f"{words[0].upper()}, {words[1]}! <br />{words[2]}'s \u201c{words[3]}\u201d \u2014 {words[4]}\u00a0{words[5]}",
        " ".join(words[6:40]) + " " + " ".join(words[:50]),
        f"<i>{words[7]}</i>__{words[8]}...{words[9]}\u2019s o'{words[10]}' unknownword",
        "",
        *ODD_TEXTS,
    ]
    result = cli(
        "export",
        "tiny.yaml",
        "-o",
        str(tmp_path / "m.keras"),
        "--savedmodel",
        str(tmp_path / "served"),
        cwd=finished_study.folder,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == (
        f"SavedModel written to {tmp_path / 'served'} (signature serving_default: texts -> scores)"
    )
    script = (
        "import json, sys, tensorflow as tf\n"
        "served = tf.saved_model.load(sys.argv[1])\n"
        "texts = tf.constant(json.loads(sys.argv[2]))\n"
        "print(json.dumps({'ids': served.signatures['token_ids'](texts=texts)['token_ids'].numpy().tolist(),\n"
        "                  'scores': served.signatures['serving_default'](texts=texts)['scores'].numpy().tolist()}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "served"), json.dumps(texts)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    served = json.loads(run.stdout.splitlines()[-1])
    expected, ids = expected_scores(reference, texts)
    np.testing.assert_array_equal(np.array(served["ids"]), ids)
    np.testing.assert_allclose(np.array(served["scores"]), expected, atol=1e-5, rtol=0)


def test_export_and_predict_mistakes_are_one_line_errors(finished_study, exported, tmp_path):
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    best = study.best_trial.number
    cases = [
        (
            ("export", "tiny.yaml", "--trial", "99", "-o", "m.keras"),
            "error: --trial: study 'tiny' has no trial 99; its trials are 0 to 3",
        ),
        (
            ("export", "tiny.yaml", "--trial", "first", "-o", "m.keras"),
            "error: --trial: 'first' is not a trial number; expected 'best' or a number such as 3",
        ),
        (
            ("export", "tiny.yaml", "-o", "m.h5"),
            "error: -o: 'm.h5' must end in .keras (Keras' file format), for example model.keras",
        ),
        (
            ("predict", str(tmp_path / "none.keras"), "text"),
            f"error: MODEL: '{tmp_path / 'none.keras'}' does not exist; "
            "export one with gapsearch export STUDY.yaml -o FILE",
        ),
        (
            ("predict", str(exported)),
            'error: give texts to classify, or --input FILE; for example: gapsearch predict model.keras "text"',
        ),
        (("predict", str(exported), "--input", "nothing.txt"), "error: --input: 'nothing.txt' does not exist"),
    ]
    for trial in study.trials:
        if trial.number == best:
            continue
        metas = [m for m in get_all_artifact_meta(trial, storage=study._storage) if m.filename == "model.keras"]
        message = (
            f"error: trial {trial.number}'s model.keras is no longer in the artifact store: it was removed when a "
            "better trial finished (save_models: best); export --trial best, or set save_models: all"
            if metas
            else f"error: trial {trial.number} saved no model: artifacts.save_models was 'none', or 'best' and the "
            "trial was not the best when it finished; export --trial best, or set save_models: all and rerun"
        )
        cases.append((("export", "tiny.yaml", "--trial", str(trial.number), "-o", "m.keras"), message))
    for args, message in cases:
        result = cli(*args, cwd=finished_study.folder)
        assert (result.exit_code, result.stderr.strip().splitlines()[-1]) == (2, message), args
    assert not (finished_study.folder / "m.keras").exists()


def test_a_savedmodel_needs_the_tensorflow_backend(finished_study, tmp_path):
    result = gapsearch(
        "export",
        "tiny.yaml",
        "-o",
        str(tmp_path / "m.keras"),
        "--savedmodel",
        str(tmp_path / "s"),
        cwd=finished_study.folder,
        env={"KERAS_BACKEND": "torch"},
    )
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        2,
        "error: --savedmodel: a SavedModel needs KERAS_BACKEND=tensorflow, but the backend is 'torch'; rerun with "
        "KERAS_BACKEND=tensorflow or leave out --savedmodel",
    )
    assert not (tmp_path / "m.keras").exists() and not (tmp_path / "s").exists()
