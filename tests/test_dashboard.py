"""gapsearch dashboard: the study, its trials and their artifacts through optuna-dashboard's HTTP API and in
a real browser (Debian's headless Chromium)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import optuna
import pytest
from optuna.artifacts import get_all_artifact_meta

from tests.browser import chromium, screenshot, visible_text
from tests.conftest import cli, cli_env


class Dashboard:
    def __init__(self, process: subprocess.Popen[str], shown: str, lines: list[str]) -> None:
        self.process = process
        self.shown = shown  # the URL as printed, with ?token=... unless --read-only
        self.url, _, query = shown.partition("?")  # http://127.0.0.1:PORT/dashboard/studies/ID
        self.token = parse_qs(query).get("token", [None])[0]
        self.lines = lines
        self.base = self.url.split("/dashboard")[0]
        self.port = int(self.base.rsplit(":", 1)[1])

    def page(self, path: str = "") -> str:
        """The address of a page under the dashboard's, with the token as a browser opening the printed URL sends it."""
        return self.url + path + (f"?token={self.token}" if self.token is not None else "")

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return response.read()

    def json(self, path: str) -> dict:
        return json.loads(self.get(path))


def start_dashboard(*args: str, cwd: Path) -> Dashboard:
    process = subprocess.Popen(
        [sys.executable, "-m", "gapsearch", "dashboard", *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        match = re.match(r"open (http://\S+)  \(Ctrl-C stops it\)$", lines[-1])
        if match:
            return Dashboard(process, match.group(1), lines)
    process.kill()
    raise AssertionError("the dashboard did not start:\n" + "\n".join(lines))


def stop(dashboard: Dashboard) -> None:
    dashboard.process.terminate()
    dashboard.process.wait(timeout=30)


@pytest.fixture(scope="module")
def dashboard(finished_study) -> Iterator[Dashboard]:
    served = start_dashboard("tiny.yaml", "--port", "0", cwd=finished_study.folder)
    yield served
    stop(served)


def test_the_dashboard_serves_the_study_its_trials_and_an_artifact(dashboard, finished_study):
    assert dashboard.lines == [
        "optuna-dashboard on sqlite:///gapsearch.db",
        "artifacts in artifacts",
        f"open {dashboard.shown}  (Ctrl-C stops it)",
    ]
    assert dashboard.url.startswith("http://127.0.0.1:")
    assert dashboard.token is not None and re.fullmatch(r"[A-Za-z0-9_-]{43}", dashboard.token)
    assert dashboard.shown == f"{dashboard.url}?token={dashboard.token}"
    summaries = dashboard.json("/api/studies")["study_summaries"]
    assert [s["study_name"] for s in summaries] == ["tiny"]
    study_id = summaries[0]["study_id"]
    assert dashboard.url.endswith(f"/dashboard/studies/{study_id}")
    detail = dashboard.json(f"/api/studies/{study_id}")
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study.folder / 'gapsearch.db'}")
    assert [(t["number"], t["state"], t["values"]) for t in detail["trials"]] == [
        (t.number, "Complete", [t.value]) for t in study.trials
    ]
    assert detail["note"]["body"].startswith("# tiny\n")
    trial = study.best_trial
    served = next(t for t in detail["trials"] if t["number"] == trial.number)
    names = {a["filename"] for a in served["artifacts"]}
    assert names == {
        "learning_curves.png",
        "history.csv",
        "model_summary.txt",
        "confusion_matrix.png",
        "model.keras",
        "explanation.json",
    }
    curves = next(
        m for m in get_all_artifact_meta(trial, storage=study._storage) if m.filename == "learning_curves.png"
    )
    body = dashboard.get(f"/artifacts/{study_id}/{served['trial_id']}/{curves.artifact_id}")
    assert body == (finished_study.artifacts / curves.artifact_id).read_bytes()
    assert body.startswith(b"\x89PNG")


def test_the_dashboard_page_renders_the_study_and_its_trials_in_chromium(dashboard, finished_study):
    page = dashboard.page("/trials")  # as the printed URL opens it: with the token, which sets the cookie
    dom = chromium("--dump-dom", url=page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = visible_text(dom.stdout)
    assert "tiny (id=" in text
    assert "4 Trials" in text
    for number in range(4):
        assert f"Trial {number} Complete" in text
    assert "Artifacts confusion_matrix.png explanation.json history.csv learning_curves.png" in text
    screenshot(page, "dashboard.png")  # the documentation's picture of the dashboard, after `make screenshots`


def test_binding_beyond_loopback_warns_that_anyone_there_can_read_the_study(finished_study):
    served = start_dashboard("tiny.yaml", "--host", "0.0.0.0", "--port", "0", cwd=finished_study.folder)
    try:
        assert served.lines[0] == (
            f"warning: the dashboard is bound to 0.0.0.0:{served.port}: anyone who can reach this address can read "
            "the study, and changes need only the token in its URL, which travels unencrypted. Bind to 127.0.0.1 "
            "and use an SSH tunnel (ssh -L 8080:127.0.0.1:8080 HOST) to keep it to yourself."
        )
        assert served.token is not None
        assert served.json("/api/studies")["study_summaries"][0]["study_name"] == "tiny"
    finally:
        stop(served)


def test_a_port_in_use_and_a_missing_study_are_one_line_errors(finished_study, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("dashboard", "tiny.yaml", "--port", str(port), cwd=finished_study.folder)
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: --port: port {port} on 127.0.0.1 is in use; pass another --port (0 picks a free one)\n",
    )
    result = cli("dashboard", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: give a study file or --storage URL; for example: gapsearch dashboard study.yaml\n",
    )
    result = cli("dashboard", "--storage", "sqlite:///missing.db", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: no study database at missing.db in {tmp_path.resolve()}; "
        "run `gapsearch run` first or pass --storage\n",
    )
    assert not (tmp_path / "missing.db").exists()
