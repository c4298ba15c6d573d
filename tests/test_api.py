"""The Python API: the examples of its documentation page run as written, and the API answers what the CLI answers."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.conftest import ROOT, TINY_STUDY, cli, cli_env, gapsearch, require_module

API_PAGE = ROOT / "docs" / "pages" / "api.md"


def page_examples() -> list[str]:
    """The Python blocks of the documentation's Python API page, in order."""
    return re.findall(r"```python\n(.*?)```", API_PAGE.read_text(), flags=re.DOTALL)


@pytest.fixture(scope="module")
def api_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The page's examples, run in one fresh Python process in a folder holding a tiny study.yaml."""
    require_module("plotly")  # the notebook extra, which the page's optuna.visualization example needs
    folder = tmp_path_factory.mktemp("api")
    (folder / "study.yaml").write_text(TINY_STUDY + "artifacts: {store: artifacts}\n")
    examples = page_examples()
    assert len(examples) == 5, "the Python API page holds its five examples"
    result = subprocess.run(
        [sys.executable, "-c", "\n".join(examples)],
        cwd=folder,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, result


def test_the_api_page_examples_run_and_do_what_they_say(api_run):
    folder, result = api_run
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    best = study.best_trial
    lines = result.stdout.splitlines()
    assert "3/3 finished trials" in lines
    assert lines[lines.index("3/3 finished trials") + 1].startswith(f"{best.number} {{'val_accuracy': {best.value}}}")
    assert f"trial {best.number} written to model.keras" in lines
    assert (folder / "model.keras").is_file() and (folder / "report" / "report.html").is_file()
    assert "compare:pooling" in study.user_attrs  # compare stored its result with the study, as the CLI does
    assert f"Study {len(study.trials)} trials plotted" in lines  # Study.optuna, drawn by optuna.visualization
    test_accuracy = study.user_attrs["test_metrics"][str(best.number)]["metrics"]["test_accuracy"]
    assert f"trial {best.number}: test_accuracy={test_accuracy:.4f}" in lines  # evaluate stored what it returned
    texts = ["a wonderful film", "dull and far too long"]
    by_cli = json.loads(cli("predict", "model.keras", *texts, "--format", "json", cwd=folder, check=True).stdout)
    predicted = lines[lines.index(f"trial {best.number}: test_accuracy={test_accuracy:.4f}") + 1 :][:3]
    assert predicted[:2] == [f"{p['label']} {p['score']:.4f} {p['probabilities']}" for p in by_cli]
    assert predicted[2] == f"{by_cli[0]['label']} {tuple(by_cli[0]['probabilities'])}"  # gapsearch.load_model
    # run() held Optuna's own log back: no "A new study created in RDB", no line in Optuna's format
    assert not re.search(r"^\[[DIWE] \d{4}-\d\d-\d\d", result.stdout + result.stderr, flags=re.M), result.stderr


def test_run_holds_optunas_log_back_unless_verbose(tmp_path, monkeypatch, caplog):
    import gapsearch

    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    monkeypatch.chdir(tmp_path)
    study = gapsearch.load("tiny.yaml")
    optuna.logging.enable_propagation()  # Optuna's records reach caplog's handler (Optuna prints them itself)
    before = optuna.logging.get_verbosity()
    try:
        with caplog.at_level(logging.DEBUG, logger="optuna"):
            study.run(n_trials=1)
            assert [record.getMessage() for record in caplog.records if record.name.startswith("optuna")] == []
            assert optuna.logging.get_verbosity() == logging.DEBUG  # the level it had, back
            study.run(n_trials=2, verbose=True)
    finally:
        optuna.logging.disable_propagation()
        optuna.logging.set_verbosity(before)
    shown = [record.getMessage() for record in caplog.records if record.name.startswith("optuna")]
    assert "Using an existing study with `study_name='tiny'` instead of creating a new one." in shown, shown
    assert len(study.optuna.trials) == 2


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # its matplotlib plots, in Optuna 5
def test_study_optuna_is_the_optuna_study_that_optunas_tools_read(api_run):
    import gapsearch

    folder, _ = api_run
    study = gapsearch.load(folder / "study.yaml", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    stored = optuna.load_study(study_name="tiny", storage=f"sqlite:///{folder / 'gapsearch.db'}")
    assert isinstance(study.optuna, optuna.Study)
    assert [t.params for t in study.optuna.trials] == [t.params for t in stored.trials]
    axes = optuna.visualization.matplotlib.plot_optimization_history(study.optuna)
    assert len(axes.collections[0].get_offsets()) == len(stored.trials)  # one point per trial


def test_predict_wants_a_list_and_a_trial_that_kept_its_model(api_run, monkeypatch):
    import gapsearch
    from gapsearch.errors import UserError
    from gapsearch.results.export import ExportError

    folder, _ = api_run
    monkeypatch.chdir(folder)  # the database and the artifact store are relative to the working directory
    study = gapsearch.load("study.yaml")
    with pytest.raises(UserError, match=r"^predict takes a list of texts, not one string; for example "):
        study.predict("a wonderful film")
    beaten = next(t for t in study.trials() if t.state == "COMPLETE" and t.number != study.best()[0].number)
    # Its model was removed when a better trial finished, or never kept (save_models: best).
    with pytest.raises(ExportError, match=rf"^trial {beaten.number}('s model.keras is no longer in| saved no model)"):
        study.predict(["a wonderful film"], trial=beaten.number)


def test_load_model_prints_none_of_tensorflows_start_up_lines(api_run):
    from tests.test_quiet_startup import chatter

    folder, _ = api_run
    env = {k: v for k, v in cli_env().items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "GAPSEARCH_TF_LOG")}

    def python(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=True
        )

    quiet = python("import gapsearch\nprint(gapsearch.load_model('model.keras').classify(['a wonderful film'])[0])")
    assert quiet.stdout.strip() in ("['class_0']", "['class_1']")
    assert chatter(quiet.stderr) == [], quiet.stderr
    # The check can fail: Keras imported first prints them (on a machine whose TensorFlow prints any).
    loud = python("import keras, gapsearch.models.text_classifier\nkeras.saving.load_model('model.keras')")
    assert chatter(loud.stderr), loud.stderr


def test_the_api_and_the_cli_read_the_same_trials(api_run):
    folder, _ = api_run
    probe = (
        "import json, sys, gapsearch\n"
        "study = gapsearch.load('study.yaml')\n"
        "frame = study.trials().to_dataframe().reset_index()\n"
        "rows = [{k: v for k, v in row.items() if v == v and v is not None} for row in frame.to_dict('records')]\n"
        "print(json.dumps({'table': rows, 'best': [t.number for t in study.best()]}, default=lambda x: x.item()))\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=folder, env=cli_env(), capture_output=True, text=True, check=True
    )
    answer, heavy = result.stdout.splitlines()
    assert heavy == "HEAVY []", "reading a study through the API imports no framework"
    cli_table = json.loads(cli("trials", "study.yaml", "--format", "json", cwd=folder, check=True).stdout)
    api = json.loads(answer)
    assert api["table"] == [{k: v for k, v in row.items() if v is not None} for row in cli_table]
    best_line = cli("best", "study.yaml", cwd=folder, check=True).stdout.splitlines()[0]
    assert best_line.startswith(f"best trial: {api['best'][0]} ")


def test_errors_are_the_cli_s_one_line_errors(tmp_path):
    import gapsearch
    from gapsearch.errors import StorageError, StudyFileError

    (tmp_path / "bad.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trails: 3"))
    with pytest.raises(StudyFileError) as caught:
        gapsearch.load(tmp_path / "bad.yaml")
    line = gapsearch_cli_error(tmp_path, "bad.yaml")
    assert f"error: {caught.value}" == line.replace("bad.yaml", str(tmp_path / "bad.yaml"))
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    study = gapsearch.load(tmp_path / "tiny.yaml", storage=f"sqlite:///{tmp_path / 'none.db'}")
    with pytest.raises(StorageError, match=r"^no study database at "):
        study.best()


def gapsearch_cli_error(folder: Path, name: str) -> str:
    result = gapsearch("validate", name, cwd=folder)
    assert result.returncode == 2
    return result.stderr.strip()
