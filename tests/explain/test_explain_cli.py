"""gapsearch explain on models trained by the real CLI on synthetic data whose cue words are known.

One study of three trials (average, max and attention pooling, the quickstart's encoder) is run
once for the module; its kept models are exported and explained as a user would (in this process, ``cli``, but
the coloured table in a terminal and the pages opened in headless Chromium, from a process of their own).
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore, download_artifact, get_all_artifact_meta

from tests.browser import chromium, screenshot, visible_text
from tests.conftest import cli, cli_env, gapsearch

SEED = 7
N_EXAMPLES, MIN_LENGTH, MAX_LENGTH = 1000, 8, 60
FILTERS = 32
CUES_STUDY = f"""\
name: cues
metric: val_accuracy
direction: maximize
n_trials: 3
seed: {SEED}
sampler: {{type: grid}}
pruner: {{type: none}}
data: {{format: synthetic, n_examples: {N_EXAMPLES}, min_length: {MIN_LENGTH}, max_length: {MAX_LENGTH}}}
model:
  max_tokens: 2000
  sequence_length: {MAX_LENGTH}
  kernel_size: 3
  embedding_dim: 16
  filters: {FILTERS}
  epochs: 4
  patience: 2
  batch_size: 32
  learning_rate: 3.0e-3
search_space:
  pooling: [average, max, attention]
artifacts: {{store: artifacts, save_models: all}}
"""
POOLINGS = ("average", "max", "attention")


def cue_words() -> dict[str, set[str]]:
    from gapsearch.data.synthetic import synthetic_lexicon

    _, cues = synthetic_lexicon(SEED)
    return {f"class_{k}": set(cues[k]) for k in range(2)}


@pytest.fixture(scope="module")
def cues(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The study run by the CLI; each pooling's trial exported to ``POOLING.keras`` in its folder."""
    folder = tmp_path_factory.mktemp("cues")
    (folder / "cues.yaml").write_text(CUES_STUDY)
    cli("run", "cues.yaml", "--no-progress", cwd=folder, check=True)
    study = optuna.load_study(study_name="cues", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    from gapsearch.results.export import export_model
    from gapsearch.spec import load_study

    store = FileSystemArtifactStore(folder / "artifacts")
    trials = {trial.params["pooling"]: trial for trial in study.trials}
    assert set(trials) == set(POOLINGS)
    spec = load_study(folder / "cues.yaml")
    for pooling, trial in trials.items():
        export_model(spec, study, store, trial.number, folder / f"{pooling}.keras")
    return {"folder": folder, "study": study, "store": store, "trials": trials}


def artifact(cues: dict, pooling: str, filename: str, tmp_path: Path) -> bytes:
    trial = cues["trials"][pooling]
    (meta,) = [m for m in get_all_artifact_meta(trial, storage=cues["study"]._storage) if m.filename == filename]
    path = tmp_path / f"{pooling}-{filename}"
    download_artifact(artifact_store=cues["store"], file_path=str(path), artifact_id=meta.artifact_id)
    return path.read_bytes()


@pytest.mark.parametrize("pooling", POOLINGS)
def test_the_top_token_of_a_correct_text_is_a_cue_word_of_its_class(cues, pooling):
    from gapsearch.data.synthetic import make_synthetic
    from gapsearch.explain.texts import explain_texts
    from gapsearch.models.loading import load_text_classifier

    texts, labels = make_synthetic(N_EXAMPLES, 2, SEED, MIN_LENGTH, MAX_LENGTH)
    result = explain_texts(load_text_classifier(cues["folder"] / f"{pooling}.keras"), texts)
    assert result["method"] == "exact"
    correct = [(r, label) for r, label in zip(result["texts"], labels, strict=True) if r["predicted"] == label]
    assert len(correct) >= 0.8 * len(texts)  # the models learned the task; else the check says little
    words = cue_words()
    hits = sum(max(r["tokens"], key=lambda t: t["contribution"])["token"] in words[label] for r, label in correct)
    assert hits / len(correct) >= 0.9, (pooling, hits, len(correct))


def test_each_kept_model_has_its_channels_and_explained_validation_texts(cues, tmp_path):
    words = cue_words()
    for pooling in POOLINGS:
        document = json.loads(artifact(cues, pooling, "explanation.json", tmp_path))
        assert (document["format"], document["method"], document["class_names"]) == (1, "exact", ["class_0", "class_1"])
        assert f"({pooling} pooling, linear head)" in document["rule"]
        channels = document["channels"]
        assert channels["available"] and channels["texts"] == 200  # the whole validation split
        heads = 4 if pooling == "attention" else 1  # attention's default heads, each a weighting of every map
        assert [c["channel"] for c in channels["channels"]] == list(range(FILTERS * heads))
        for channel in channels["channels"]:
            assert (channel["pooling"], channel["window"]) == (pooling, [1, 1])
            assert channel["votes"]["class_0"] == -channel["votes"]["class_1"]  # one sigmoid unit
            assert channel["votes_for"] == max(channel["votes"], key=channel["votes"].get)
            assert 1 <= len(channel["top"]) <= 5
            activations = [t["activation"] for t in channel["top"]]
            assert activations == sorted(activations, reverse=True)
            assert all(1 <= len(t["ngram"].split()) <= 3 for t in channel["top"])
        for name, grams in channels["classes"].items():  # the n-gram that adds most to a class holds its cue word
            assert set(grams[0]["ngram"].split()) & words[name], (pooling, name, grams[0])
        assert len(document["examples"]) == 6
        for example in document["examples"]:
            tokens = example["text"].split()
            assert 4 <= len(tokens) <= 40 and [t["token"] for t in example["tokens"]] == tokens
            counts = {name: sum(t in cue for t in tokens) for name, cue in words.items()}
            assert example["label"] == max(counts, key=counts.get)  # the synthetic labelling rule
            total = example["bias"] + sum(t["contribution"] for t in example["tokens"])
            assert total == pytest.approx(example["score"], abs=1e-4)


def test_channels_over_the_vocabulary_and_over_given_texts(cues, tmp_path):
    result = cli("explain", "max.keras", "--channels", "--format", "json", cwd=cues["folder"], check=True)
    found = json.loads(result.stdout)
    assert found["source"].startswith("the model's vocabulary, one word at a time (")
    assert len(found["channels"]) == FILTERS
    assert all(len(t["ngram"].split()) == 1 for c in found["channels"] for t in c["top"])
    for name, cue in cue_words().items():  # alone, a class's own cue word adds most to it
        assert found["classes"][name][0]["ngram"] in cue, (name, found["classes"][name][:3])
    texts = tmp_path / "texts.txt"
    texts.write_text("bazo kemiru dafige\nzaba tiguda\n")
    result = cli("explain", "max.keras", "--channels", "--input", str(texts), cwd=cues["folder"], check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == f"channels: {FILTERS}; n-grams over 2 given texts"
    assert lines[2] == "top n-grams per class (summed share of its logit):"
    assert lines[6] == "channel  pooling    window   votes for  votes; top n-grams (activation), strongest vote first"
    assert re.match(
        r"^ +\d+  max        -1\.\.\+1   class_[01]  +class_0 [-+]\d\.\d{3} class_1 [-+]\d\.\d{3}$", lines[7]
    )


def test_bad_input_is_one_line_and_an_empty_text_is_explained_as_empty(cues, tmp_path):
    folder = cues["folder"]
    result = cli("explain", "missing.keras", "a text", cwd=folder)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: MODEL: 'missing.keras' does not exist; export one with gapsearch export STUDY.yaml -o FILE\n",
    )
    result = cli("explain", "average.keras", "a text", "--class", "class_9", cwd=folder)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --class: 'class_9' is not a class of this model; its classes are class_0, class_1\n",
    )
    result = cli("explain", "average.keras", "--channels", "--class", "class_0", cwd=folder)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --class does not go with --channels: the channel report shows every class's votes\n",
    )
    import keras

    from gapsearch.errors import UserError
    from gapsearch.models.loading import load_text_classifier

    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    plain.save(tmp_path / "plain.keras")
    with pytest.raises(UserError) as raised:
        load_text_classifier(tmp_path / "plain.keras")
    assert str(raised.value) == (
        f"MODEL: {str(tmp_path / 'plain.keras')!r} is a Sequential, not a gapsearch model that takes raw text; "
        "export one with gapsearch export"
    )
    from gapsearch.explain.channels import model_channels
    from gapsearch.models.builder import build_model
    from gapsearch.models.text_classifier import TextClassifier
    from gapsearch.spec.data import TextSettings
    from gapsearch.spec.hyperparameters import Hyperparameters

    hidden = build_model(
        Hyperparameters(embedding_dim=4, filters=3, pooling="max", sequence_length=8, dense_units=4),
        vocabulary_size=5,
        n_classes=2,
    )
    occluded = TextClassifier(hidden, ["", "[UNK]", "a", "b", "c"], TextSettings().model_dump(), 8, ["no", "yes"])
    with pytest.raises(UserError) as raised:
        model_channels(occluded, [])
    assert str(raised.value) == (
        "--channels: this model's pooled channels do not feed a linear head (a hidden dense layer ('dense') sits "
        "between the encoder and the output); explain texts instead (occlusion)"
    )
    result = cli("explain", "average.keras", "", "   ", cwd=folder, check=True)  # piped: no colour
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and lines[0].startswith("method: exact decomposition of the logit (average pooling")
    assert re.match(
        r"^text 1: predicted class_[01] \(\d\.\d{4}\); score of class_[01]: [-+]\d\.\d{4} = bias ", lines[1]
    )
    assert lines[3] == lines[1].replace("text 1", "text 2")  # nothing to tell two empty texts apart
    assert lines[2] == lines[4] == "  (empty: no tokens)"
    assert "\x1b[" not in result.stdout and result.stderr == ""


def test_the_table_is_coloured_in_a_terminal_and_not_under_no_color(cues, monkeypatch):
    from gapsearch.explain.render import terminal_supports_color

    words = sorted(cue_words()["class_0"])
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as terminal:
        process = subprocess.run(
            [sys.executable, "-m", "gapsearch", "explain", "average.keras", " ".join(words)],
            cwd=cues["folder"],
            env={k: v for k, v in cli_env({"TERM": "xterm-256color"}).items() if k != "NO_COLOR"},
            stdout=terminal,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        assert process.returncode == 0, process.stderr
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm-256color")
        assert terminal_supports_color(terminal)
        monkeypatch.setenv("NO_COLOR", "1")  # https://no-color.org: any non-empty value
        assert not terminal_supports_color(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO once the terminal's other end is closed and read out
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    shown = b"".join(chunks).decode()
    for word in words:  # green for the class explained (the predicted one), bold when among the strongest
        assert re.search(rf"\x1b\[(1;)?38;5;(34|160)m{word}\x1b\[0m", shown), shown


def _shaded_pixels(png: Path) -> tuple[int, int]:
    """Pixels of a screenshot close to the strongest green and red shading."""
    import numpy as np
    from PIL import Image

    r, g, b = np.asarray(Image.open(png).convert("RGB"), dtype=np.int32).transpose(2, 0, 1)
    green = (g > 120) & (r < 90) & (b < 120) & (g - r > 60)
    red = (r > 180) & (g < 110) & (b < 110)
    return int(green.sum()), int(red.sum())


def test_the_html_page_shows_shaded_tokens_and_the_method_in_chromium(cues, tmp_path):
    words = cue_words()
    text = " ".join([*sorted(words["class_1"]), "bazo", sorted(words["class_0"])[0]])
    page = tmp_path / "why.html"
    result = gapsearch("explain", "attention.keras", text, "", "-o", str(page), "--format", "html", cwd=cues["folder"])
    assert (result.returncode, result.stdout) == (0, f"explanation written to {page}\n"), result.stderr
    dom = chromium("--dump-dom", url=page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    seen = visible_text(dom.stdout)
    assert "Method: exact decomposition of the logit (attention pooling, linear head)" in seen
    assert "Text 1 : predicted class_1" in seen and "Text 2 : predicted" in seen and "(empty: no tokens)" in seen
    spans = re.findall(
        r'<span class="tok (pos|neg)[^"]*" style="background: rgba\(([^)]*)\)[^"]*" title="([^"]+)">([^<]+)<',
        dom.stdout,
    )
    assert [token for *_, token in spans] == text.split()  # the second text has none
    strongest = max(spans, key=lambda s: abs(float(s[2])))
    assert strongest[3] in words["class_1"] and strongest[0] == "pos"
    assert float(strongest[1].split(",")[3]) == pytest.approx(0.95)
    bare = tmp_path / "bare.html"  # the same page without the text's tokens: only the legend is shaded
    bare.write_text(re.sub(r'<span class="tok (pos|neg)[^>]*>[^<]*</span>', "", page.read_text()))
    bare_shot = tmp_path / "bare.png"
    assert chromium(f"--screenshot={bare_shot}", url=bare.as_uri()).returncode == 0
    # The documentation's picture of the page (docs/pages/explain.md) is this screenshot, after `make screenshots`.
    shaded = {"why": _shaded_pixels(screenshot(page.as_uri(), "explain.png")), "bare": _shaded_pixels(bare_shot)}
    assert shaded["why"][0] - shaded["bare"][0] > 500, shaded  # the cue words, in strong green


def test_the_report_shows_what_the_best_model_looks_at_side_by_side_in_chromium(cues, tmp_path):
    result = gapsearch("report", "cues.yaml", "-o", str(tmp_path / "report"), cwd=cues["folder"], check=True)
    assert result.stderr == ""
    dom = chromium("--dump-dom", url=(tmp_path / "report" / "report.html").as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    seen = visible_text(dom.stdout)
    section = seen[seen.index("What the best model looks at") :]
    best = cues["study"].best_trial
    assert section.startswith(
        f"What the best model looks at The best explained model: trial #{best.number}, "
        f"{best.params['pooling']} pooling, val_accuracy {best.value:.4f}. Method: exact decomposition of the logit"
    )
    assert "Top n-grams per class The n-grams whose steps add most to each class's logit, summed over 200 " in section
    assert "The same texts under the best model of each pooling" in section
    ranked = sorted(cues["trials"].values(), key=lambda t: -t.value)
    columns = " ".join(f"trial #{t.number}, {t.params['pooling']} pooling, val_accuracy {t.value:.4f}" for t in ranked)
    assert columns in section
    tail = dom.stdout[dom.stdout.index('id="side-by-side"') :]
    assert tail.count("<td>") + tail.count("<td ") == 3 * 6  # six texts under three models
    assert (
        len(re.findall(r'class="tok (?:pos|neg)[^"]*" style="background: rgba\((?:26, 152, 80|215, 48, 39)', tail)) > 50
    )


def test_poolings_of_a_comparison_without_a_kept_model_are_named_in_the_report_section(cues, tmp_path, monkeypatch):
    import sqlite3

    from gapsearch.results.report import collect
    from gapsearch.results.report.explanations import explanation_section
    from gapsearch.spec import load_study

    with sqlite3.connect(cues["folder"] / "gapsearch.db") as source, sqlite3.connect(tmp_path / "gapsearch.db") as copy:
        source.backup(copy)  # a copy of the study database, so the module's study keeps no comparison
    study = optuna.load_study(study_name="cues", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    study.set_user_attr("compare:pooling", {"param": "pooling", "results": [{"value": "max"}, {"value": "gem"}]})
    spec = load_study(cues["folder"] / "cues.yaml")
    monkeypatch.chdir(cues["folder"])  # where the artifact store is
    results = collect(study, spec)
    assert results.explanations is not None
    assert [e.pooling for e in results.explanations.explained] == list(dict.fromkeys(r.pooling for r in results.ranked))
    section = visible_text(explanation_section(results))
    assert section.endswith(
        "No kept model explains pooling gem: only trials whose model was kept when they finished "
        "(artifacts.save_models) wrote explanation.json; compare:pooling trains its models without keeping them."
    )
    assert section.count("pooling, val_accuracy") == 1 + 3  # the best model's line and the three columns
