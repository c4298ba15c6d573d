"""Every command with every kind of study: {one objective, two, with a constraint} x {validation split, folds,
repeats} x {run, trials, best, export then predict, evaluate, compare, report, status, dashboard}.

Each command runs through the real CLI (click's runner, in this process, so TensorFlow starts once) on a
real SQLite file; the dashboard is served for real. Each must exit 0 with the right content, or 2 with one
line; never a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest

from gapsearch.results.console import format_value
from tests.conftest import cli

OBJECTIVES = {
    "one objective": "metric: val_accuracy\ndirection: maximize\n",
    "two objectives": "objectives:\n  - {metric: val_accuracy, direction: maximize}\n"
    "  - {metric: params, direction: minimize}\n",
    "a constraint": "metric: val_accuracy\ndirection: maximize\nconstraints: {params: {max: 100000}}\n",
}
EVALUATIONS = {
    "validation split": ("", ""),
    "folds": (", folds: 2", ""),
    "repeats": ("", "repeats: 2\n"),
}
STUDY = """\
name: every
{objectives}n_trials: 2
seed: 5
sampler: {{type: grid}}
pruner: {{type: none}}
{repeats}data: {{format: synthetic, n_examples: 160, min_length: 4, max_length: 20{folds}}}
artifacts: {{store: artifacts, save_models: all}}
model:
  max_tokens: 200
  sequence_length: 20
  epochs: 1
  patience: 0
  batch_size: 32
  filters: 4
  embedding_dim: 4
search_space:
  pooling: [average, max]
"""


KINDS = [(o, e) for o in OBJECTIVES for e in EVALUATIONS]


def _name(kind: tuple[str, str]) -> str:
    return re.sub(r"[^a-z]+", "-", f"{kind[0]} {kind[1]}")


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> tuple[str, dict[tuple[str, str], Path]]:
    """Every kind of study run to its budget by `gapsearch run`, each in its own folder, all in one database."""
    root = tmp_path_factory.mktemp("every")
    url = f"sqlite:///{root / 'studies.db'}"
    folders = {}
    with pytest.MonkeyPatch.context() as patch:
        for kind in KINDS:
            folds, repeats = EVALUATIONS[kind[1]]
            text = STUDY.format(objectives=OBJECTIVES[kind[0]], folds=folds, repeats=repeats)
            folder = root / _name(kind)
            folder.mkdir()
            (folder / "study.yaml").write_text(text.replace("name: every", f"name: {_name(kind)}\nstorage: {url}"))
            patch.chdir(folder)
            run = cli("run", "study.yaml", "--no-progress")
            assert run.exit_code == 0, run.output
            folders[kind] = folder
    return url, folders


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: f"{kind[0]}, {kind[1]}")
def test_every_command_works_with_every_kind_of_study(studies, kind, monkeypatch):
    url, folders = studies
    monkeypatch.chdir(folders[kind])
    name = _name(kind)
    several = kind[0] == "two objectives"
    stored = optuna.load_study(study_name=name, storage=url)
    assert [t.state.name for t in stored.trials] == ["COMPLETE", "COMPLETE"]
    assert sorted(t.params["pooling"] for t in stored.trials) == ["average", "max"]
    front = stored.best_trials if several else [stored.best_trial]
    chosen = max(front, key=lambda t: (t.values[0], -t.number))

    listed = cli("trials", "study.yaml", "--format", "json")
    assert listed.exit_code == 0 and [r["number"] for r in json.loads(listed.output)] == [0, 1]

    best = cli("best", "study.yaml")
    assert best.exit_code == 0
    if several:
        assert best.output.startswith(f"Pareto-optimal trials: {len(front)} of 2 completed")
    else:
        assert best.output.startswith(f"best trial: {chosen.number}  val_accuracy="), best.output

    exported = cli("export", "study.yaml", "-o", "model.keras")
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith(f"trial {chosen.number} (val_accuracy=")
    if several:  # another objective of the front, any completed trial, and an objective that does not exist
        smallest = min(front, key=lambda t: (t.values[1], t.number))
        by_size = cli("export", "study.yaml", "--by", "params", "-o", "small.keras")
        assert by_size.exit_code == 0, by_size.output
        assert by_size.output == (
            f"trial {smallest.number} (val_accuracy={format_value(smallest.values[0])}, "
            f"params={format_value(smallest.values[1])}) exported to small.keras\n"
        )
        other = 1 - chosen.number
        assert cli("export", "study.yaml", "--trial", str(other), "-o", "other.keras").output.startswith(
            f"trial {other} (val_accuracy="
        )
        unknown = cli("export", "study.yaml", "--by", "loss", "-o", "x.keras")
        assert (unknown.exit_code, unknown.output) == (
            2,
            f"error: --by: 'loss' is not an objective of study {name!r}; expected 'val_accuracy' or 'params'\n",
        )
    predicted = cli("predict", "model.keras", "a short text", "--format", "json")
    assert predicted.exit_code == 0, predicted.output
    (row,) = json.loads(predicted.output)
    assert row["label"] in {"class_0", "class_1"}

    evaluated = cli("evaluate", "study.yaml")
    assert evaluated.exit_code == 0, evaluated.output
    assert evaluated.output.startswith(f"trial {chosen.number}: trained on train (")

    compared = cli("compare", "study.yaml", "--param", "pooling", "--seeds", "2", "--no-progress")
    assert compared.exit_code == 0, compared.output
    assert f"stored in study {name} as user attribute 'compare:pooling'" in compared.output

    reported = cli("report", "study.yaml", "-o", "report")
    assert reported.exit_code == 0, reported.output
    assert f"<title>gapsearch report: {name}</title>" in (folders[kind] / "report" / "report.html").read_text()

    status = cli("status", "study.yaml")
    assert status.exit_code == 0
    assert status.output.startswith(f"study {name} in {url}: 2/2 finished trials")


def test_the_dashboard_serves_every_kind_of_study(studies):
    from tests.test_dashboard import start_dashboard, stop

    url, folders = studies
    served = start_dashboard("--storage", url, "--port", "0", cwd=next(iter(folders.values())))
    try:
        summaries = {s["study_name"]: s for s in served.json("/api/studies")["study_summaries"]}
        assert set(summaries) == {_name(kind) for kind in KINDS}
        for kind in KINDS:
            detail = served.json(f"/api/studies/{summaries[_name(kind)]['study_id']}")
            stored = optuna.load_study(study_name=_name(kind), storage=url)
            served_trials = [(t["number"], t["values"]) for t in detail["trials"]]
            assert served_trials == [(t.number, t.values) for t in stored.trials]
    finally:
        stop(served)
