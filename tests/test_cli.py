"""The command line as a user meets it: real processes, a real SQLite file, Optuna's own API and CLI.

What reads a study runs in this process (``cli``); running one, its errors and its signals run as a user's would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.conftest import (
    TINY_STUDY,
    FinishedStudy,
    cli,
    cli_env,
    gapsearch,
    jax_env,
    require_module,
    start_run,
    wait_until_training,
)

OPTUNA_CLI = str(Path(sys.executable).with_name("optuna"))


def states(db: Path, name: str = "tiny") -> list[str]:
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    return [t.state.name for t in study.get_trials(deepcopy=False)]


@pytest.fixture(scope="module")
def finished_run(finished_study: FinishedStudy) -> Path:
    """The tiny study, run once through the CLI in its own folder (default storage) to 4 trials: the suite's shared
    one (conftest's ``finished_study``), which these tests only read."""
    return finished_study.folder


def test_run_fills_the_budget_in_the_default_sqlite_file(finished_study):
    db = finished_study.folder / "gapsearch.db"
    assert states(db) == ["COMPLETE"] * 4
    output = finished_study.run_output
    assert [line.split()[:3] for line in output.splitlines() if line.startswith("trial ")] == [
        ["trial", "0", "COMPLETE"],
        ["trial", "1", "COMPLETE"],
        ["trial", "2", "COMPLETE"],
        ["trial", "3", "COMPLETE"],
    ]
    assert "study tiny: 4/4 finished trials in sqlite:///gapsearch.db" in output
    assert "best trial: " in output


def test_each_trial_records_what_it_cost_and_where_it_ran(finished_run):
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_run / 'gapsearch.db'}")
    for trial in study.trials:
        attrs = trial.user_attrs
        assert {"embedding_dim", "pooling"} <= set(trial.params)
        assert ("attention_units" in trial.params) == (trial.params["pooling"] == "attention")
        vocabulary, remainder = divmod(attrs["params_embedding"], trial.params["embedding_dim"])
        assert remainder == 0 and 2 < vocabulary <= 300  # max_tokens caps the vocabulary
        assert attrs["params_total"] > attrs["params_embedding"] > 0
        assert attrs["epochs_run"] == 2 and attrs["best_epoch"] in (1, 2)
        assert trial.value == max(attrs["history"]["val_accuracy"])  # the best epoch's value, not the last one's
        assert attrs["train_seconds"] > 0 and attrs["seconds_per_epoch"] > 0
        assert attrs["train_val_gap"] == pytest.approx(
            attrs["history"]["accuracy"][attrs["best_epoch"] - 1] - trial.value, abs=1e-5
        )
        assert attrs["backend"] == "tensorflow" and attrs["device"] == "cpu"
        assert attrs["pid"] > 0 and attrs["hostname"] and attrs["gapsearch_version"] and attrs["keras_version"]
    assert study.user_attrs["class_names"] == ["class_0", "class_1"]
    assert "name: tiny" in study.user_attrs["study_file"]


def test_optunas_own_cli_lists_the_trials(finished_run):
    result = subprocess.run(
        [OPTUNA_CLI, "trials", "--storage", "sqlite:///gapsearch.db", "--study-name", "tiny", "-f", "json"],
        cwd=finished_run,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(result.stdout)
    assert [row["state"] for row in rows] == ["COMPLETE"] * 4
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_run / 'gapsearch.db'}")
    # Optuna names the value by the study's metric name, which gapsearch sets.
    assert [(row["number"], row["params"], row["value"]) for row in rows] == [
        (t.number, t.params, {"val_accuracy": t.value}) for t in study.trials
    ]


def test_a_second_run_adds_nothing_once_the_budget_is_met(finished_study_copy):
    folder = finished_study_copy.folder  # run to 4 trials, past the file's budget of 3
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=folder, check=True)
    assert "already holds 4 finished trials (budget 3); nothing to do" in result.stdout
    assert states(folder / "gapsearch.db") == ["COMPLETE"] * 4


def test_trials_and_best_read_the_study(finished_run):
    table = cli("trials", "tiny.yaml", cwd=finished_run, check=True).stdout.splitlines()
    assert table[0].split()[:4] == ["number", "state", "value", "seconds"]
    assert len(table) == 5
    rows = json.loads(cli("trials", "tiny.yaml", "--format", "json", cwd=finished_run, check=True).stdout)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_run / 'gapsearch.db'}")
    assert [r["value"] for r in rows] == [t.value for t in study.trials]
    csv_lines = cli("trials", "tiny.yaml", "--format", "csv", cwd=finished_run, check=True).stdout.splitlines()
    assert csv_lines[0].startswith("number,state,value,seconds,") and len(csv_lines) == 5
    best = cli("best", "tiny.yaml", cwd=finished_run, check=True).stdout
    assert best.startswith(f"best trial: {study.best_trial.number}  val_accuracy=")


def test_commands_that_only_read_never_import_tensorflow(finished_run):
    probe = (
        "import sys; from gapsearch.cli import main\n"
        "try:\n    main(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    for args in (["--help"], ["validate", "tiny.yaml"], ["schema"], ["trials", "tiny.yaml"], ["best", "tiny.yaml"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=finished_run, capture_output=True, text=True, env=cli_env()
        )
        assert result.stdout.strip().endswith("HEAVY []"), (args, result.stdout[-300:], result.stderr[-500:])


def test_the_in_process_cli_leaves_this_process_as_it_found_it(finished_study_copy):
    """conftest's ``cli`` puts back what a command changes, so that no test depends on the order of others."""
    import logging
    import random
    import warnings

    import numpy as np

    root = logging.getLogger()
    before = (
        os.getcwd(),
        dict(os.environ),
        [(handler, handler.formatter) for handler in root.handlers],
        root.level,
        logging.getLogger("tensorflow").level,
        optuna.logging.get_verbosity(),
        warnings.showwarning,
        random.getstate(),
        np.random.get_state()[1].tolist(),
    )
    # --debug sets GAPSEARCH_TF_LOG; every command sets the root logger's formatters, TensorFlow's logger level and
    # how warnings are shown; evaluate sets Optuna's verbosity and trains, seeded (Python's and NumPy's random).
    folder = finished_study_copy.folder
    assert cli("--debug", "trials", "tiny.yaml", cwd=folder, check=True).stdout
    assert cli("evaluate", "tiny.yaml", cwd=folder, env={"NO_COLOR": "1"}, check=True).stdout
    after = (
        os.getcwd(),
        dict(os.environ),
        [(handler, handler.formatter) for handler in root.handlers],
        root.level,
        logging.getLogger("tensorflow").level,
        optuna.logging.get_verbosity(),
        warnings.showwarning,
        random.getstate(),
        np.random.get_state()[1].tolist(),
    )
    assert after == before


BAD_INPUTS = {
    "misspelled key": (("n_trials: 3", "n_trails: 3"), "{file}: n_trails: unknown key; did you mean 'n_trials'?"),
    "low above high": (
        ("attention_units: {low: 4, high: 8,", "attention_units: {low: 8, high: 4,"),
        "{file}: search_space.attention_units: low <= high must hold, but got (low=8, high=4)",
    ),
    "unknown pooling": (
        ("[average, max, attention]", "[average, maximum, attention]"),
        "{file}: search_space.pooling[1]: 'maximum' is not allowed; "
        "expected 'average', 'max', 'attention', 'average_max', 'gem', 'mixed' or 'flatten'",
    ),
    "missing data file": (
        ("data: {format: synthetic, n_examples: 240, min_length: 4, max_length: 30}", "data: {train: reviews.tsv}"),
        "{file}: data.train: no such file 'reviews.tsv' (looked in {folder})",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(tmp_path, case):
    (old, new), expected = BAD_INPUTS[case]
    assert old in TINY_STUDY
    (tmp_path / "study.yaml").write_text(TINY_STUDY.replace(old, new))
    result = gapsearch("run", "study.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: " + expected.format(file="study.yaml", folder=tmp_path.resolve())]
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "gapsearch.db").exists()


def test_unreachable_postgres_gives_one_line_and_exit_2(tmp_path):
    (tmp_path / "study.yaml").write_text(TINY_STUDY)
    result = gapsearch(
        "run", "study.yaml", "--storage", "postgresql://alice:s3cret@127.0.0.1:1/gapsearch", cwd=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: cannot reach the study database postgresql://alice:***@127.0.0.1:1/gapsearch: "
    )
    assert "s3cret" not in result.stdout + result.stderr
    assert not (tmp_path / "gapsearch.db").exists()


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "study.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trials: 0"))
    result = gapsearch("--debug", "validate", "study.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1] == "error: study.yaml: n_trials: must be >= 1, but got 0"


def test_validate_prints_the_resolved_study_with_the_password_masked(tmp_path):
    (tmp_path / "study.yaml").write_text(TINY_STUDY)
    result = cli(
        "validate",
        "study.yaml",
        cwd=tmp_path,
        env={"GAPSEARCH_STORAGE": "postgresql://alice:s3cret@db.internal/studies"},
        check=True,
    )
    assert "storage    postgresql://alice:***@db.internal/studies" in result.stdout
    assert "s3cret" not in result.stdout
    # average and max: 2 embedding dims each; attention: 2 x 5 attention units
    assert "search space: 14 configurations" in result.stdout


def test_schema_accepts_the_shipped_studies_and_rejects_a_bad_one(tmp_path):
    import jsonschema
    import yaml

    from gapsearch.spec.yaml_io import read_yaml_mapping

    schema = json.loads(cli("schema", cwd=tmp_path, check=True).stdout)
    root = Path(__file__).resolve().parents[1]
    for study_file in sorted((root / "studies").glob("*.yaml")):
        jsonschema.validate(read_yaml_mapping(study_file)[0], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(TINY_STUDY.replace("n_trials: 3", "n_trails: 3")), schema)


def test_interrupted_run_resumes_to_its_budget(tmp_path):
    # Trials of seconds (40 epochs); the signal goes once the second one trains.
    study = TINY_STUDY.replace("n_trials: 3", "n_trials: 2").replace("epochs: 2", "epochs: 40")
    (tmp_path / "study.yaml").write_text(study)
    process, first = start_run("study.yaml", cwd=tmp_path)
    assert first.startswith("trial   0  COMPLETE"), first
    wait_until_training(tmp_path / "gapsearch.db")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines() == [
        "stopped by SIGINT at 1/2 finished trials; the running trial was recorded as FAIL and queued again, "
        "and a rerun continues the study"
    ]
    before = states(tmp_path / "gapsearch.db")
    assert before == ["COMPLETE", "FAIL", "WAITING"]
    gapsearch("run", "study.yaml", "--no-progress", cwd=tmp_path, check=True)
    after = states(tmp_path / "gapsearch.db")
    assert after == ["COMPLETE", "FAIL", "COMPLETE"]  # the interrupted trial, queued again, completed


def test_a_tiny_study_runs_under_the_torch_backend(tmp_path):
    require_module("torch")
    (tmp_path / "study.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trials: 2"))
    gapsearch("run", "study.yaml", "--no-progress", cwd=tmp_path, env={"KERAS_BACKEND": "torch"}, check=True)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert {t.user_attrs["backend"] for t in study.trials} == {"torch"}
    assert all(0.0 <= t.value <= 1.0 for t in study.trials)


def test_a_tiny_study_runs_exports_and_predicts_under_the_jax_backend(tmp_path):
    env = jax_env()
    (tmp_path / "study.yaml").write_text(
        TINY_STUDY.replace("n_trials: 3", "n_trials: 1") + "artifacts: {store: artifacts}\n"
    )
    run = gapsearch("run", "study.yaml", "--no-progress", cwd=tmp_path, env=env, check=True)
    assert "I0000" not in run.stderr and "oneDNN" not in run.stderr, run.stderr  # TensorFlow's chatter stays out
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"]
    assert {(t.user_attrs["backend"], t.user_attrs["device"]) for t in study.trials} == {("jax", "cpu")}
    gapsearch("export", "study.yaml", "-o", "model.keras", cwd=tmp_path, env=env, check=True)
    predicted = gapsearch("predict", "model.keras", "a short text", "--format", "json", cwd=tmp_path, env=env)
    assert predicted.returncode == 0, predicted.stderr
    (row,) = json.loads(predicted.stdout)
    assert row["label"] in {"class_0", "class_1"} and sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
