"""Every command that opens a study database, against the three ways a database is not there.

An unreachable server (a closed local port), a database that does not exist, and a database
without Optuna's tables: each command says so in one line naming the masked URL and the real
cause, exits 2, prints no traceback and creates nothing.
"""

from __future__ import annotations

import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy

from tests.conftest import TINY_STUDY, gapsearch

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
