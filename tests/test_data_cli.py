"""`gapsearch validate` shows the task, `gapsearch data` builds the cache, `gapsearch evaluate` stores test metrics."""

from __future__ import annotations

import optuna

from tests.conftest import TINY_STUDY, cli


def test_validate_shows_the_inferred_task(tmp_path, datasets):
    study = TINY_STUDY.replace(
        "data: {format: synthetic, n_examples: 240, min_length: 4, max_length: 30}",
        f"data: {{train: {datasets / 'sst5' / 'dev.tsv'}, text: sentence}}",
    )
    (tmp_path / "s.yaml").write_text(study)
    result = cli("validate", "s.yaml", cwd=tmp_path, check=True)
    assert "task       multiclass (inferred; 5 classes in train: '0', '1', '2', '3', '4')" in result.stdout


def test_data_builds_the_cache_and_a_second_call_reads_it(tmp_path, datasets):
    study = TINY_STUDY.replace(
        "data: {format: synthetic, n_examples: 240, min_length: 4, max_length: 30}",
        f"data: {{train: {datasets / 'imdb' / 'aclImdb_sample' / 'train'}, drop_empty: true}}",
    )
    (tmp_path / "s.yaml").write_text(study)
    first = cli("data", "s.yaml", cwd=tmp_path, check=True).stdout
    assert "  train                200           200       400" in first
    assert "  validation            50            50       100" in first
    assert "vectorized max_tokens=300 sequence_length=30: vocabulary 300," in first
    assert "(2 entries built, the rest read)" in first
    second = cli("data", "s.yaml", cwd=tmp_path, check=True).stdout
    assert "(0 entries built, the rest read)" in second


def test_evaluate_trains_the_best_trial_and_stores_its_test_metrics(finished_study_copy):
    folder = finished_study_copy.folder  # the tiny study's 4 trials, a copy of this test's own: evaluate writes to it
    best = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'gapsearch.db'}").best_trial.number
    result = cli("evaluate", "tiny.yaml", cwd=folder, check=True)
    assert result.stdout.startswith(f"trial {best}: trained on train (")
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    stored = study.user_attrs["test_metrics"][str(best)]
    assert stored["n_test"] == 48 and set(stored["metrics"]) >= {"test_accuracy", "test_auc", "test_macro_f1"}
    assert 0.0 <= stored["metrics"]["test_accuracy"] <= 1.0
    missing = cli("evaluate", "tiny.yaml", "--trial", "7", cwd=folder)
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: --trial: study 'tiny' has no trial 7; its trials are 0 to 3"


def test_every_shipped_study_validates_on_its_real_data_without_importing_keras(datasets):
    import subprocess
    import sys

    from tests.conftest import ROOT, cli_env

    shipped = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "studies").glob("*.yaml"))
    assert "studies/sst5-phrases.yaml" in shipped
    probe = (
        "import sys; from gapsearch.cli import main\n"
        f"for study in {shipped!r}:\n"
        "    main(['validate', study], standalone_mode=False)\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    studies = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("study ")]
    assert len(studies) == len(shipped), result.stdout
    assert "task       binary (inferred; 2 classes in train: 'neg', 'pos')" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_sst5_on_phrases_trains_on_every_phrase_and_reads_sst5s_dev_and_test_sentences(datasets):
    """Kim's SST-1 training set: the phrases file's labels are the sentence files' (a dev or test label unknown to
    train would fail here), its dev and test sets are sst5.yaml's."""
    from gapsearch.data.dataset import load_splits
    from gapsearch.spec import load_study
    from tests.conftest import ROOT

    phrases, sentences = (load_study(ROOT / "studies" / name) for name in ("sst5-phrases.yaml", "sst5.yaml"))
    assert (phrases.data.validation, phrases.data.test) == (sentences.data.validation, sentences.data.test)
    splits = load_splits(phrases.data, phrases.base_dir, phrases.seed, with_test=True)
    assert len(splits.train.texts) == 156_817
    assert (len(splits.validation.texts), len(splits.test.texts)) == (1101, 2210)
    assert splits.class_names == ("0", "1", "2", "3", "4")
    assert set(splits.validation.labels) == set(splits.test.labels) == set(splits.train.labels)
