"""Every command that opens a study database, against the ways a database cannot be used.

An unreachable server (a closed local port), a database that does not exist, a database
without Optuna's tables, another application's database, a scheme or driver gapsearch cannot
use, and a wrong password: each command says so in one line naming the masked URL and the
real cause, exits 2, prints no traceback and creates nothing. A Heroku-style ``postgres://``
URL works.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy

from tests.conftest import TINY_STUDY, cli, gapsearch

PASSWORD = f"pw{uuid.uuid4().hex[:12]}"
COMMANDS = {
    "worker": ("worker", "tiny.yaml", "--no-progress"),
    "status": ("status", "tiny.yaml"),
    "trials": ("trials", "tiny.yaml"),
    "best": ("best", "tiny.yaml"),
    "report": ("report", "tiny.yaml", "-o", "report"),
    "export": ("export", "tiny.yaml", "-o", "model.keras"),
    "dashboard": ("dashboard", "tiny.yaml", "--port", "0"),
}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def _with_password(url: str) -> str:
    return sqlalchemy.engine.make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_every_command_reports_a_broken_database_in_one_line(postgres_url, tmp_path):
    empty = _with_password(postgres_url)  # created by the fixture, no tables in it
    missing_name = f"gapsearch_missing_{uuid.uuid4().hex[:8]}"
    missing = sqlalchemy.engine.make_url(empty).set(database=missing_name).render_as_string(hide_password=False)
    unreachable = sqlalchemy.engine.make_url(empty).set(port=_closed_port()).render_as_string(hide_password=False)
    masked = {url: url.replace(PASSWORD, "***") for url in (empty, missing, unreachable)}
    expected = {
        unreachable: (f"error: cannot reach the study database {masked[unreachable]}: ", "Connection refused", ""),
        missing: (
            f"error: the study database {masked[missing]} does not exist (",
            f'database "{missing_name}" does not exist',
            "); create the database first, or fix the URL",
        ),
        empty: (
            f'error: the study database {masked[empty]} has no Optuna tables (relation "version_info" does not '
            "exist); no study was ever created there: create one with `gapsearch run` or `gapsearch create`, "
            "or fix the URL",
            "",
            "",
        ),
    }
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    # The worker waits for an unreachable server (one that starts after its workers); the others do not.
    cases = [(name, url) for url in (unreachable, missing, empty) for name in COMMANDS]
    cases.sort(key=lambda case: case != ("worker", unreachable))

    def run(case: tuple[str, str]):  # noqa: ANN202
        name, url = case
        folder = tmp_path / f"{name}-{list(masked).index(url)}"
        folder.mkdir()
        (folder / "tiny.yaml").write_text(TINY_STUDY)
        return gapsearch(*COMMANDS[name], "--storage", url, cwd=folder, timeout=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(cases, pool.map(run, cases), strict=True))
    for (name, url), result in results.items():
        start, middle, end = expected[url]
        lines = result.stderr.splitlines()
        assert (result.returncode, len(lines), result.stdout) == (2, 1, ""), (name, url, result.stderr[-2000:])
        assert lines[0].startswith(start) and middle in lines[0] and lines[0].endswith(end), (name, lines[0])
        assert PASSWORD not in lines[0]
        assert not [p.name for p in (tmp_path / f"{name}-{list(masked).index(url)}").iterdir() if p.name != "tiny.yaml"]
    # Nothing was created: the empty database is still empty, the missing one still missing.
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        assert sqlalchemy.inspect(engine).get_table_names() == []
        with engine.connect() as connection:
            found = connection.execute(
                sqlalchemy.text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": missing_name}
            ).scalar()
        assert found == 0
    finally:
        engine.dispose()


#: Every command that takes --storage, with the arguments it needs; all but validate open the database
#: (validate checks the URL's scheme and driver only). A test checks that the list is complete.
STORAGE_COMMANDS = {
    **COMMANDS,
    "run": ("run", "tiny.yaml", "--no-progress"),
    "create": ("create", "tiny.yaml"),
    "compare": ("compare", "tiny.yaml", "--param", "pooling", "--no-progress"),
    "evaluate": ("evaluate", "tiny.yaml"),
    "validate": ("validate", "tiny.yaml"),
}
OPENING = [name for name in STORAGE_COMMANDS if name != "validate"]


def test_every_command_that_takes_a_storage_is_listed():
    from gapsearch.cli import main

    takes = {name for name, command in main.commands.items() if any(p.name == "storage" for p in command.params)}
    assert takes == set(STORAGE_COMMANDS)


def _run_each(cases: list[tuple[str, str]], tmp_path, *, workers: int = 4) -> dict:  # noqa: ANN001
    """Run each (command, URL) in a folder of its own holding only tiny.yaml; the results by case."""

    def run(case: tuple[str, str]):  # noqa: ANN202
        folder = tmp_path / f"{case[0]}-{cases.index(case)}"
        folder.mkdir()
        (folder / "tiny.yaml").write_text(TINY_STUDY)
        began = time.monotonic()
        result = gapsearch(*STORAGE_COMMANDS[case[0]], "--storage", case[1], cwd=folder, timeout=120)
        return result, time.monotonic() - began, sorted(p.name for p in folder.iterdir())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(cases, pool.map(run, cases), strict=True))


def _assert_one_line(case, outcome, expected: str) -> None:  # noqa: ANN001
    """Exit 2 with exactly ``expected`` on stderr, nothing on stdout, and no file or folder made."""
    result, _, left = outcome
    assert (result.returncode, result.stderr, result.stdout) == (2, f"error: {expected}\n", ""), (case, result.stderr)
    assert left == ["tiny.yaml"], case


def test_every_command_refuses_a_scheme_it_cannot_use_in_one_line(tmp_path):
    from tests.test_storage import REFUSED

    refused = {}
    for case in ("an unknown scheme", "a driver that is not installed"):
        absent, url, expected = REFUSED[case]
        if absent is None or importlib.util.find_spec(absent) is None:
            refused[url] = expected
    results = _run_each([(name, url) for url in refused for name in STORAGE_COMMANDS], tmp_path)
    for (name, url), outcome in results.items():
        _assert_one_line((name, url), outcome, refused[url])


@pytest.mark.postgres
def test_a_heroku_style_postgres_url_works(postgres_url, tmp_path):
    """``postgres://`` is PostgreSQL: a run, a worker that joins it, and the commands that read the study
    quickly (the others open it through the same ``load_existing_study``, and take seconds each to start); the
    commands run in this process, the worker in its own."""
    heroku = postgres_url.replace("postgresql+psycopg://", "postgres://")
    (tmp_path / "tiny.yaml").write_text(TINY_STUDY)
    cli("run", "tiny.yaml", "--n-trials", "1", "--no-progress", "--storage", heroku, cwd=tmp_path, check=True)
    for command in ("create", "status", "trials", "best", "validate"):
        result = cli(*STORAGE_COMMANDS[command], "--storage", heroku, cwd=tmp_path)
        assert (result.exit_code, result.stderr) == (0, ""), (command, result.stderr)
    status = cli("status", "tiny.yaml", "--storage", heroku, cwd=tmp_path).stdout
    assert status.startswith(f"study tiny in {heroku}: 1/1 finished trials"), status
    worker = gapsearch("worker", "tiny.yaml", "--n-trials", "1", "--no-progress", "--storage", heroku, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr


def test_a_database_of_another_application_is_refused_and_left_as_it_was(tmp_path):
    """An MLflow tracking database given as the study database: every command refuses it, nothing is written."""
    database = tmp_path / "mlflow.db"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        for table in ("experiments", "runs", "metrics", "alembic_version"):
            connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        connection.commit()
    tables, content = _tables(database), database.read_bytes()
    url = f"sqlite:///{database}"
    results = _run_each([(name, url) for name in OPENING], tmp_path)
    for case, outcome in results.items():
        _assert_one_line(
            case,
            outcome,
            f"the study database {url} holds MLflow's tracking tables (experiments, metrics, runs) and not Optuna's; "
            "the study and MLflow need a database each: give the study another one (for example "
            "sqlite:///gapsearch.db, with tracking.mlflow.tracking_uri: sqlite:///mlflow.db); nothing was written",
        )
    assert (_tables(database), database.read_bytes()) == (tables, content)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["mlflow.db"]  # no -wal or -journal file


def _tables(database) -> list[str]:  # noqa: ANN001
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))


def test_the_database_is_checked_before_data_is_loaded_or_a_file_made(tmp_path):
    """The commands that load data or make files (the cache, the artifact store) do so only after the database
    opened: the others are in the test above."""
    url = "postgresql://postgres@127.0.0.1:1/x"
    results = _run_each([(name, url) for name in ("run", "create", "compare", "evaluate")], tmp_path)
    for case, outcome in results.items():
        result = outcome[0]
        assert result.stderr.startswith(f"error: cannot reach the study database {url}: "), (case, result.stderr)
        assert result.stderr.endswith("Connection refused\n"), result.stderr
        _assert_one_line(case, outcome, result.stderr.removeprefix("error: ").removesuffix("\n"))


@pytest.mark.mysql
def test_a_wrong_password_is_said_at_once_by_every_command(mariadb_user, tmp_path):
    parsed = sqlalchemy.engine.make_url(mariadb_user)
    wrong = parsed.set(password="wrong").render_as_string(hide_password=False)
    expected = (
        f"access denied for user '{parsed.username}' to the study database {wrong.replace(':wrong@', ':***@')} "
        f"((1045, \"Access denied for user '{parsed.username}'@'127.0.0.1'\")); check the user and password "
        "(in the URL, PGPASSWORD or ~/.pgpass, or the MySQL option file); a refused login is not retried"
    )
    # One at a time, so that each command's time is its own (a worker waits 30 s for a server that is down).
    results = _run_each([(name, wrong) for name in OPENING], tmp_path, workers=1)
    for case, outcome in results.items():
        _assert_one_line(case, outcome, expected)
        # Not retried: a worker gives a server that is down 30 s, and this process's whole life (starting Python
        # and importing Keras takes 5 s of it on a loaded machine) stays well under that.
        assert outcome[1] < 20, (case, outcome[1])
