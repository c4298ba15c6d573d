"""`gapsearch init`: a study file for a data file of one's own that validates, runs and reports as written.

The data is 300 real MR sentences in a latin-1 TSV the tests write; every command runs through the real CLI (``init``
and ``validate`` in this process, the commands the written file names in a fresh process each, as a user runs them),
and the study is read back with Optuna's own API.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import optuna
import pytest
import yaml

from gapsearch.data.starter import DEFAULT_TRIALS
from tests.conftest import ROOT, cli, gapsearch

SEARCHED = {"embedding_dim", "pooling", "filters", "kernel_size", "learning_rate", "dropout"}


@pytest.fixture
def reviews(tmp_path, datasets) -> Path:
    """``data/reviews.tsv``: id, review and polarity of 150 positive and 150 negative MR sentences (latin-1)."""
    folder = tmp_path / "data"
    folder.mkdir()
    pos, neg = (
        (datasets / "mr" / f"rt-polarity.{name}").read_bytes().decode("latin-1").split("\n")[:150]
        for name in ("pos", "neg")
    )
    rows = ["id\treview\tpolarity"]
    for i, (good, bad) in enumerate(zip(pos, neg, strict=True)):
        rows += [f"{2 * i}\t{good.strip()}\tpositive", f"{2 * i + 1}\t{bad.strip()}\tnegative"]
    (folder / "reviews.tsv").write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    return folder / "reviews.tsv"


def test_the_written_study_validates_runs_and_reports_with_the_commands_it_names(tmp_path, reviews):
    init = cli("init", "data/reviews.tsv", "--trials", "2", cwd=tmp_path, check=True)
    written = (tmp_path / "study.yaml").read_text()
    commands = ["gapsearch validate study.yaml", "gapsearch run study.yaml", "gapsearch report study.yaml -o report"]
    assert init.stdout.splitlines()[0] == "study.yaml written for data/reviews.tsv (tsv, 300 rows read)"
    assert init.stdout.splitlines()[2:] == [
        "  label: 'polarity' (2 distinct: 'positive', 'negative')",
        "next:",
        *(f"  {command}" for command in commands),
    ]
    study = yaml.safe_load(written)
    assert study["data"] == {
        "train": "data/reviews.tsv",
        "text": "review",
        "label": "polarity",
        "validation_split": 0.2,
        "encoding": "latin-1",
    }
    assert set(study["search_space"]) == SEARCHED and study["search_space"]["pooling"] == [
        "average",
        "max",
        "attention",
    ]
    assert (study["name"], study["metric"], study["n_trials"]) == ("reviews", "val_accuracy", 2)

    # The commands the file's comment names, run as written.
    in_file = [line.lstrip("# ").split("  #")[0].strip() for line in written.splitlines() if "gapsearch " in line]
    assert in_file[-3:] == commands
    outputs = [gapsearch(*shlex.split(command)[1:], cwd=tmp_path, check=True).stdout for command in commands]
    assert "task       binary (inferred; 2 classes in train: 'negative', 'positive')" in outputs[0]
    assert "study reviews: 2/2 finished trials in sqlite:///gapsearch.db" in outputs[1]
    assert outputs[2].splitlines()[-1] == "report written to report/report.html with 6 figures"
    assert (tmp_path / "report" / "report.html").stat().st_size > 10_000

    stored = optuna.load_study(study_name="reviews", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    trials = stored.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
    assert len(trials) == 2 and stored.best_trial.state == optuna.trial.TrialState.COMPLETE
    assert all(set(trial.params) == SEARCHED for trial in trials)


def test_another_folder_an_existing_file_and_a_missing_column(tmp_path, reviews):
    (tmp_path / "studies").mkdir()
    first = cli("init", "data/reviews.tsv", "-o", "studies/mine.yaml", cwd=tmp_path, check=True)
    assert first.stdout.splitlines()[-3:] == [
        "  gapsearch validate studies/mine.yaml",
        "  gapsearch run studies/mine.yaml",
        "  gapsearch report studies/mine.yaml -o report",
    ]
    study = yaml.safe_load((tmp_path / "studies" / "mine.yaml").read_text())
    assert (study["data"]["train"], study["name"], study["n_trials"]) == ("../data/reviews.tsv", "reviews", 20)
    cli("validate", "studies/mine.yaml", cwd=tmp_path, check=True)

    again = cli("init", "data/reviews.tsv", "-o", "studies/mine.yaml", "--label", "id", cwd=tmp_path)
    assert (again.exit_code, again.stdout, again.stderr) == (
        2,
        "",
        "error: -o: studies/mine.yaml exists; pass --force to overwrite it, or -o another file\n",
    )
    cli("init", "data/reviews.tsv", "-o", "studies/mine.yaml", "--force", "--trials", "5", cwd=tmp_path, check=True)
    assert yaml.safe_load((tmp_path / "studies" / "mine.yaml").read_text())["n_trials"] == 5

    missing = cli("init", "data/reviews.tsv", "--label", "sentiment", cwd=tmp_path)
    assert (missing.exit_code, missing.stdout, len(missing.stderr.splitlines())) == (2, "", 1)
    assert not (tmp_path / "study.yaml").exists()
    assert missing.stderr.startswith("error: data/reviews.tsv: no column 'sentiment' (--label); the columns are 'id'")


def test_the_own_data_page_shows_what_init_prints_and_writes(tmp_path, reviews):
    page = (ROOT / "docs" / "pages" / "own-data.md").read_text()
    printed = cli("init", "data/reviews.tsv", cwd=tmp_path, check=True).stdout
    assert f"```\n{printed}```" in page
    assert f"```yaml\n{(tmp_path / 'study.yaml').read_text()}```" in page
    missing = cli("init", "data/reviews.tsv", "--label", "sentiment", "-o", "other.yaml", cwd=tmp_path)
    assert f"```\n{missing.stderr}```" in page


def test_init_imports_no_framework(tmp_path, reviews):
    import subprocess
    import sys

    from tests.conftest import cli_env

    probe = (
        "import sys; from gapsearch.cli import main\n"
        "main(['init', 'data/reviews.tsv'], standalone_mode=False)\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax', 'optuna') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "HEAVY []"


def test_the_help_states_the_default_budget():
    from click.testing import CliRunner

    from gapsearch.cli import main

    shown = CliRunner().invoke(main, ["init", "--help"]).output
    assert f"(n_trials; {DEFAULT_TRIALS} when left out)" in " ".join(shown.split())
