"""The Python API: the examples of its documentation page run as written, and the API answers what the CLI answers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.conftest import ROOT, TINY_STUDY, cli_env, gapsearch

API_PAGE = ROOT / "docs" / "pages" / "api.md"


def page_examples() -> list[str]:
    """The Python blocks of the documentation's Python API page, in order."""
    return re.findall(r"```python\n(.*?)```", API_PAGE.read_text(), flags=re.DOTALL)


@pytest.fixture(scope="module")
def api_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The page's examples, run in one fresh Python process in a folder holding a tiny study.yaml."""
    folder = tmp_path_factory.mktemp("api")
    (folder / "study.yaml").write_text(TINY_STUDY + "artifacts: {store: artifacts}\n")
    examples = page_examples()
    assert len(examples) == 3, "the Python API page holds its three examples"
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
    cli_table = json.loads(gapsearch("trials", "study.yaml", "--format", "json", cwd=folder, check=True).stdout)
    api = json.loads(answer)
    assert api["table"] == [{k: v for k, v in row.items() if v is not None} for row in cli_table]
    best_line = gapsearch("best", "study.yaml", cwd=folder, check=True).stdout.splitlines()[0]
    assert best_line.startswith(f"best trial: {api['best'][0]} ")


def test_errors_are_the_cli_s_one_line_errors(tmp_path):
    import gapsearch
    from gapsearch.errors import StorageError, StudyFileError

    (tmp_path / "bad.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trails: 3"))
    with pytest.raises(StudyFileError) as caught:
        gapsearch.load(tmp_path / "bad.yaml")
    cli = gapsearch_cli_error(tmp_path, "bad.yaml")
    assert f"error: {caught.value}" == cli.replace("bad.yaml", str(tmp_path / "bad.yaml"))
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    study = gapsearch.load(tmp_path / "tiny.yaml", storage=f"sqlite:///{tmp_path / 'none.db'}")
    with pytest.raises(StorageError, match=r"^no study database at "):
        study.best()


def gapsearch_cli_error(folder: Path, name: str) -> str:
    result = gapsearch("validate", name, cwd=folder)
    assert result.returncode == 2
    return result.stderr.strip()
