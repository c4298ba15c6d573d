"""The exit codes that docs/pages/commands.md documents are the ones the commands exit with.

The test reads the page's table of exit codes and runs, through the real CLI, a command that meets each
case the table names; a code documented without a case here, or a case whose code the table does not
list, fails the test.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY_STUDY, cli, cli_env, gapsearch, start_run, wait_until_training
from tests.workers.test_cli_workers import fault_env

COMMANDS_PAGE = ROOT / "docs" / "pages" / "commands.md"
TRAINING_WITHIN = 300  # seconds for a command to start and train an epoch, on a loaded machine
LONG_TRIALS = TINY_STUDY.replace("epochs: 2", "epochs: 60") + "workers: {heartbeat_interval: 1, grace_period: 2}\n"


def documented_exit_codes() -> dict[int, str]:
    """The table under ``| exit code | when |`` on the commands page: each code and when it is exited with."""
    text = COMMANDS_PAGE.read_text()
    table = text.split("| exit code | when |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = [re.fullmatch(r"\| (\d+) \| (.+) \|", line) for line in table.splitlines()]
    assert all(rows), table
    return {int(row.group(1)): row.group(2) for row in rows if row}


def _stopped_run(signum: signal.Signals, tmp_path: Path) -> int:
    (tmp_path / "tiny.yaml").write_text(LONG_TRIALS)
    process, _ = start_run("tiny.yaml", cwd=tmp_path)
    wait_until_training(tmp_path / "gapsearch.db", timeout=TRAINING_WITHIN)
    process.send_signal(signum)
    process.communicate(timeout=120)
    return process.returncode


def validate_a_good_study_file(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    return gapsearch("validate", "tiny.yaml", cwd=tmp_path).returncode


def run_stopped_by_sigterm(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    return _stopped_run(signal.SIGTERM, tmp_path)


def worker_stopped_by_sigint(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    (tmp_path / "tiny.yaml").write_text(LONG_TRIALS)
    cli("create", "tiny.yaml", cwd=tmp_path, check=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "gapsearch", "worker", "tiny.yaml", "--no-progress"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_training(tmp_path / "gapsearch.db", timeout=TRAINING_WITHIN)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    return process.returncode


def run_whose_worker_is_killed(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    return gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path, env=fault_env("segfault-trial:0")).returncode


def run_with_a_bad_study_file(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY.replace("n_trials: 3", "n_trials: 0"))
    return gapsearch("run", "tiny.yaml", "--no-progress", cwd=tmp_path).returncode


def _run_whose_database_stays_away(workers: int, tmp_path: Path, request: pytest.FixtureRequest) -> int:
    """A PostgreSQL database closed (ALLOW_CONNECTIONS false) while trials train, for longer than the window."""
    from tests.workers.test_outages import Outage

    url = request.getfixturevalue("postgres_url")
    (tmp_path / "tiny.yaml").write_text(LONG_TRIALS.replace("grace_period: 2}", "grace_period: 2, outage_window: 3}"))
    cli("create", "tiny.yaml", "--storage", url, cwd=tmp_path, check=True)  # for the outage to watch
    outage = Outage(url, "tiny", seconds=60, workers=workers)
    outage.start()
    args = ("run", "tiny.yaml", "--no-progress", "--workers", str(workers), "--storage", url)
    result = gapsearch(*args, cwd=tmp_path, timeout=180)
    assert len(outage.running) == workers, "the outage began while the trials ran"
    assert "it did not come back within 3s" in result.stderr, result.stderr
    outage.join()
    return result.returncode


def run_whose_database_stays_away(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    return _run_whose_database_stays_away(1, tmp_path, request)


def run_whose_workers_all_lose_the_database(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    return _run_whose_database_stays_away(2, tmp_path, request)


def run_interrupted_by_ctrl_c(tmp_path: Path, request: pytest.FixtureRequest) -> int:
    return _stopped_run(signal.SIGINT, tmp_path)


Case = Callable[[Path, pytest.FixtureRequest], int]
#: A command for each case the table names, by the code it must exit with.
CASES: dict[int, tuple[Case, ...]] = {
    0: (validate_a_good_study_file, run_stopped_by_sigterm, worker_stopped_by_sigint),
    1: (run_whose_worker_is_killed,),
    2: (run_with_a_bad_study_file,),
    75: (run_whose_database_stays_away, run_whose_workers_all_lose_the_database),
    130: (run_interrupted_by_ctrl_c,),
}


def test_every_documented_exit_code_has_a_case_and_every_case_is_documented():
    assert sorted(documented_exit_codes()) == sorted(CASES)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "case"),
    [
        pytest.param(code, case, id=f"{code}-{case.__name__}", marks=[pytest.mark.postgres] if code == 75 else [])
        for code, cases in CASES.items()
        for case in cases
    ],
)
def test_a_command_exits_with_the_code_the_docs_give(code, case, tmp_path, request):
    assert code in documented_exit_codes()
    assert case(tmp_path, request) == code
