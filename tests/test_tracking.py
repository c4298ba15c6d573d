"""MLflow tracking against a real `mlflow server` on a local port, read back through MLflow's own client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TINY_STUDY, gapsearch, require_module

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
    gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, check=True)
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


def test_a_tracking_server_that_is_down_is_one_line_and_the_study_runs(tmp_path: Path):
    uri = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "tiny.yaml").write_text(
        TINY_STUDY.replace("n_trials: 3", "n_trials: 1") + f"tracking: {{mlflow: {{tracking_uri: '{uri}'}}}}\n"
    )
    result = gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: MLflow")]
    assert len(warnings) == 1 and "the study goes on without tracking" in warnings[0]
    assert "study tiny: 1/1 finished trials" in result.stdout


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
