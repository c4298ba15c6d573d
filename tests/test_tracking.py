"""MLflow tracking against a real `mlflow server` on a local port, read back through MLflow's own client."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TINY_STUDY, cli, gapsearch, require_module

mlflow = require_module("mlflow")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{uri}/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        raise AssertionError("mlflow server did not start")
    yield uri
    server.terminate()
    server.wait(timeout=30)


def test_each_trial_is_an_mlflow_run_under_the_study_run(mlflow_server, tmp_path: Path):
    from mlflow.tracking import MlflowClient

    text = (
        TINY_STUDY.replace("n_trials: 3", "n_trials: 2")
        + "artifacts: {store: artifacts}\n"
        + f"tracking: {{mlflow: {{tracking_uri: '{mlflow_server}', experiment: e1}}}}\n"
    )
    (tmp_path / "tiny.yaml").write_text(text + "# a comment with postgresql://me:hunter2@db/x\n")
    cli("run", "tiny.yaml", "--no-progress", cwd=tmp_path, check=True)
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("e1")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if r.data.tags.get("gapsearch.parent") == "true")
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(trials) == 2
    import optuna
    from optuna.artifacts import get_all_artifact_meta

    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    by_number = {t.number: t for t in study.trials}
    for run in trials:
        trial = by_number[int(run.data.params["trial_number"])]
        assert {k: v for k, v in run.data.params.items() if k != "trial_number"} == {
            k: str(v) for k, v in trial.params.items()
        }
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [(m.step, m.value) for m in history] == [
            (epoch + 1, pytest.approx(v)) for epoch, v in enumerate(trial.user_attrs["history"]["val_accuracy"])
        ]
        assert run.data.metrics["params_total"] == trial.user_attrs["params_total"]
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"learning_curves.png", "confusion_matrix.png", "history.csv"} <= names
        # save_models: best keeps the model of a trial that led when it finished; that model reaches MLflow.
        kept = [m for m in get_all_artifact_meta(trial, storage=study._storage) if m.filename == "model.keras"]
        assert ("model.keras" in names) == bool(kept)
        if trial.number == study.best_trial.number:
            assert kept, "the best trial's model is kept"
            copy = client.download_artifacts(run.info.run_id, "model.keras", str(tmp_path / f"run-{trial.number}"))
            assert Path(copy).read_bytes() == (tmp_path / "artifacts" / kept[0].artifact_id).read_bytes()
    study_file = client.download_artifacts(parent.info.run_id, "study.yaml", str(tmp_path))
    kept = Path(study_file).read_text()
    assert "hunter2" not in kept and "postgresql://me:***@db/x" in kept
    assert client.get_run(parent.info.run_id).data.tags["gapsearch.best_trial"] == str(study.best_trial.number)


def test_a_tracking_server_that_is_down_is_one_line_and_the_study_runs(tmp_path: Path, monkeypatch):
    uri = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "tiny.yaml").write_text(
        TINY_STUDY.replace("n_trials: 3", "n_trials: 1") + f"tracking: {{mlflow: {{tracking_uri: '{uri}'}}}}\n"
    )
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: MLflow")]
    assert len(warnings) == 1 and "the study goes on without tracking" in warnings[0]
    assert "study tiny: 1/1 finished trials" in result.stdout
    # MLflow's own message, whole (it is longer than a line was once cut to): what the same call says here.
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever MLflow raises for a server that is down
        MlflowClient(tracking_uri=uri).get_experiment_by_name("tiny")
    reason = " ".join(str(raised.value).split())
    assert len(reason) > 300
    assert warnings == [
        f"warning: MLflow at {uri}: failed while reaching: {reason}; the study goes on without tracking "
        "(tracking.mlflow.on_error: warn)"
    ]


def test_on_error_stop_ends_the_run_in_one_line_before_the_study_database_is_touched(tmp_path: Path):
    uri = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "tiny.yaml").write_text(
        TINY_STUDY + f"tracking: {{mlflow: {{tracking_uri: '{uri}', on_error: stop}}}}\n"
    )
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: MLflow at {uri}: failed while reaching: ")
    assert lines[0].endswith(" (tracking.mlflow.on_error: stop)")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "gapsearch.db").exists()  # nothing half-written: no study, no database file
    assert not (tmp_path / ".gapsearch-cache").exists()


def test_on_error_stop_with_local_workers_stops_them_when_the_server_is_lost(tmp_path: Path, monkeypatch):
    """The server answered at the start and is gone later: the run's watcher stops its workers, then says why."""
    from collections import Counter

    from mlflow.tracking import MlflowClient

    from gapsearch.errors import TrackingError
    from gapsearch.search.tracking import MlflowTracker
    from gapsearch.spec import parse_study
    from gapsearch.workers.devices import WorkerSlot
    from gapsearch.workers.pool import run_worker_processes
    from gapsearch.workers.signals import StopSignals
    from tests.workers.trivial_worker import create

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{free_port()}"
    text = TINY_STUDY + f"tracking: {{mlflow: {{tracking_uri: '{uri}', on_error: stop}}}}\n"
    spec = parse_study(yaml.safe_load(text), source=tmp_path / "tiny.yaml")
    lines: list[str] = []
    tracker = MlflowTracker(spec, spec.tracking.mlflow, lines.append)
    # As after a successful start: an experiment and a parent run to nest under, on a server now gone.
    tracker.client, tracker.experiment_id, tracker.parent_id = MlflowClient(tracking_uri=uri), "1", "0" * 32
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    study = create(url, "w")
    command = [sys.executable, "-m", "tests.workers.trivial_worker", "w", "--budget", "40", "--sleep", "0.2"]
    with StopSignals() as stop, pytest.raises(TrackingError) as raised:
        run_worker_processes(
            [WorkerSlot(0, None), WorkerSlot(1, None)],
            command,
            storage_url=url,
            study=study,
            callbacks=[tracker],
            stop=stop,
            poll_interval=0.2,
        )
    assert str(raised.value).startswith(f"MLflow at {uri}: failed while recording trial ")
    assert str(raised.value).endswith(" (tracking.mlflow.on_error: stop)") and lines == []
    states = Counter(t.state.name for t in study.get_trials(deepcopy=False))
    finished = states["COMPLETE"]
    assert states["RUNNING"] == 0 and 1 <= finished < 40  # the workers were stopped, their trials not left running
    time.sleep(1)
    assert Counter(t.state.name for t in study.get_trials(deepcopy=False))["COMPLETE"] == finished  # none goes on


def _mlflow_refuses_file_stores(folder: Path) -> str | None:
    """MLflow's own words when this MLflow refuses a file store (MLflow 3), None when it takes one."""
    from mlflow.tracking import MlflowClient

    try:
        MlflowClient(tracking_uri=str(folder / "probe")).search_experiments()
    except Exception as error:  # noqa: BLE001 - whatever MLflow raises for it
        return " ".join(str(error).split())
    return None


def test_a_study_tracks_to_a_local_sqlite_store_apart_from_the_study_database(tmp_path: Path):
    """The tracking page's local example (MLflow 3's own default store), read back with MLflow's client."""
    import sqlite3

    import optuna
    from mlflow.tracking import MlflowClient

    text = TINY_STUDY.replace("n_trials: 3", "n_trials: 2") + (
        "tracking: {mlflow: {tracking_uri: 'sqlite:///mlflow.db', experiment: local}}\n"
        "# the team's server: postgresql://me:Hunter-2024@db/x\n"
    )
    (tmp_path / "tiny.yaml").write_text(text)
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("local").experiment_id])
    parent = next(r for r in runs if r.data.tags.get("gapsearch.parent") == "true")
    trials = {int(r.data.params["trial_number"]): r for r in runs if r.info.run_id != parent.info.run_id}
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{tmp_path / 'gapsearch.db'}")
    assert sorted(trials) == [t.number for t in study.trials] == [0, 1]
    for trial in study.trials:
        run = trials[trial.number]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert {k: v for k, v in run.data.params.items() if k != "trial_number"} == {
            k: str(v) for k, v in trial.params.items()
        }
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [m.value for m in history] == pytest.approx(trial.user_attrs["history"]["val_accuracy"])
    assert client.get_run(parent.info.run_id).data.tags["gapsearch.finished_trials"] == "2/2"
    # Two databases: Optuna's tables in the study's, MLflow's in its own; the password in the study file in neither.
    for database, own, other in (("gapsearch.db", "trials", "runs"), ("mlflow.db", "runs", "trials")):
        with contextlib.closing(sqlite3.connect(tmp_path / database)) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            dump = "\n".join(connection.iterdump())
        assert own in tables and other not in tables, (database, sorted(tables))
        assert "Hunter-2024" not in dump, database
    study_file = Path(client.download_artifacts(parent.info.run_id, "study.yaml", str(tmp_path / "read")))
    assert "postgresql://me:***@db/x" in study_file.read_text() and "Hunter-2024" not in study_file.read_text()
    for path in (tmp_path / "mlruns").rglob("*"):  # MLflow's artifacts (its default artifact root)
        assert not path.is_file() or b"Hunter-2024" not in path.read_bytes(), path


@pytest.mark.parametrize("uri", ["./mlruns", "file:./mlruns", "{tmp}/runs"])
def test_a_file_store_is_used_where_mlflow_takes_one_else_one_line_and_exit_2(uri, tmp_path: Path):
    uri = uri.format(tmp=tmp_path)
    (tmp_path / "tiny.yaml").write_text(
        TINY_STUDY.replace("n_trials: 3", "n_trials: 1") + f"tracking: {{mlflow: {{tracking_uri: '{uri}'}}}}\n"
    )
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path)
    refusal = _mlflow_refuses_file_stores(tmp_path)
    if refusal is None:  # an MLflow that takes file stores (before 3, or MLFLOW_ALLOW_FILE_STORE=true)
        assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
        return
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: tracking.mlflow.tracking_uri {uri}: MLflow {mlflow.__version__} cannot use this file store "
        f"({refusal}); use a database store, for example tracking_uri: sqlite:///mlflow.db (a file of its own, "
        "not the study database)"
    ]
    assert result.stdout == ""
    assert not (tmp_path / "gapsearch.db").exists() and not (tmp_path / ".gapsearch-cache").exists()


def test_mlflows_own_opt_in_to_its_file_store_is_honoured(tmp_path: Path):
    """What MLflow's refusal offers (MLFLOW_ALLOW_FILE_STORE=true) works through gapsearch: the runs are in ./mlruns."""
    from mlflow.tracking import MlflowClient

    (tmp_path / "tiny.yaml").write_text(
        TINY_STUDY.replace("n_trials: 3", "n_trials: 1") + "tracking: {mlflow: {tracking_uri: ./mlruns}}\n"
    )
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env={"MLFLOW_ALLOW_FILE_STORE": "true"})
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(tracking_uri=str(tmp_path / "mlruns"))
        runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    assert sorted(r.info.run_name for r in runs) == ["tiny", "trial 0"]


@pytest.mark.parametrize("tracking_uri", ["sqlite:///gapsearch.db", "sqlite:///{tmp}/gapsearch.db"])
def test_the_study_database_as_mlflows_store_is_one_line_and_exit_2_before_anything_is_written(
    tracking_uri, tmp_path: Path
):
    uri = tracking_uri.format(tmp=tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY + f"tracking: {{mlflow: {{tracking_uri: '{uri}'}}}}\n")
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: tracking.mlflow.tracking_uri {uri} is the study database: MLflow and Optuna need a database each "
        "(both keep an alembic_version table); give MLflow its own, for example tracking_uri: sqlite:///mlflow.db "
        "beside the study's sqlite:///gapsearch.db; nothing was written"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]
