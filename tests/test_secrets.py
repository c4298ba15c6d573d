"""No secret at rest: a password in the study file is found nowhere gapsearch stores, shows or logs it.

The study file has the password in ``storage:`` and twice in a comment. It runs with two worker
processes on a real server, then every command that reads a study runs on it; the password is
searched for in the whole database (the server's own dump tool), the artifact store (inside the
saved models too), the report, every command's output, and the command lines of all processes on
the machine while the workers run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
import sqlalchemy

from gapsearch.masking import MASK
from tests.conftest import TINY_STUDY, cli_env, gapsearch, require
from tests.test_dashboard import start_dashboard, stop

PASSWORD = f"Pw{uuid.uuid4().hex[:14]}"


def _postgres(url: str) -> Iterator[tuple[str, list[str]]]:
    # The local server trusts local connections, so the password is sent but not checked: it only has to travel.
    database = sqlalchemy.engine.make_url(url).database
    yield (
        sqlalchemy.engine.make_url(url).set(password=PASSWORD).render_as_string(hide_password=False),
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-password", database],
    )


def _mariadb(url: str) -> Iterator[tuple[str, list[str]]]:
    # An account of the test's own with a password, so that the server checks it.
    parsed = sqlalchemy.engine.make_url(url)
    user = f"gs_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(parsed.set(database=""), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'"))
        connection.execute(sqlalchemy.text(f"GRANT ALL ON {parsed.database}.* TO '{user}'@'%'"))
    try:
        yield (
            parsed.set(username=user, password=PASSWORD).render_as_string(hide_password=False),
            ["mariadb-dump", "-h", "127.0.0.1", "-u", "root", "--skip-comments", parsed.database],
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


# Every command that reads a study, on PostgreSQL; on MariaDB the ones that show its URL or read its tables
# (the others print what they print whatever the database, and take seconds each to start: the whole
# database, the dashboard's note included, is searched in its dump on both).
READERS = (
    ("status", "tiny.yaml"),
    ("trials", "tiny.yaml", "--format", "json"),
    ("best", "tiny.yaml"),
)
EVERY_READER = (
    *READERS,
    ("report", "tiny.yaml", "-o", "report"),
    ("export", "tiny.yaml", "-o", "model.keras"),
    ("worker", "tiny.yaml", "--no-progress"),
    ("validate", "tiny.yaml"),
    ("dashboard",),
)
SERVERS = [
    pytest.param("postgres_url", _postgres, EVERY_READER, marks=pytest.mark.postgres, id="postgresql"),
    pytest.param("mysql_url", _mariadb, READERS, marks=pytest.mark.mysql, id="mariadb"),
]


class CommandLines:
    """Reads every process's command line on this machine until stopped, keeping those with the password.

    It counts the pool workers running in ``folder`` alone: under the parallel suite, another test's workers
    run beside this one's.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.with_password: list[str] = []
        self.workers_seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        workers: set[str] = set()
        while not self._stop.wait(0.1):
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue  # the process has ended
                if PASSWORD in text:
                    self.with_password.append(text.replace(PASSWORD, MASK))
                if (
                    "-m gapsearch" in text
                    and " worker " in text
                    and "--slot" in text
                    and self._in_folder(cmdline.parent)
                ):
                    workers.add(cmdline.parent.name)
            self.workers_seen = len(workers)

    def _in_folder(self, process: Path) -> bool:
        try:
            return Path(os.readlink(process / "cwd")) == self.folder
        except OSError:
            return False  # the process has ended


def _files_with_password(folder: Path) -> list[str]:
    """Files under ``folder`` holding the password, looking inside zip files (a .keras model is one)."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        contents = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                contents += [archive.read(name) for name in archive.namelist()]
        if any(PASSWORD.encode() in content for content in contents):
            found.append(str(path.relative_to(folder)))
    return found


def _output(args: tuple[str, ...], folder: Path) -> str:
    """What a command printed; for the dashboard, its lines and the study as its HTTP API shows it."""
    if args != ("dashboard",):
        result = gapsearch(*args, cwd=folder, check=True)
        return result.stdout + result.stderr
    dashboard = start_dashboard("tiny.yaml", "--port", "0", cwd=folder)
    try:
        study_id = dashboard.url.rsplit("/", 1)[1]
        shown = dashboard.get(f"/api/studies/{study_id}").decode() + dashboard.get("/api/studies").decode()
    finally:
        stop(dashboard)
    assert "name: tiny" in shown and f":{MASK}@" in shown  # the masked study file, in the note and attributes
    return "\n".join(dashboard.lines) + shown


@pytest.mark.slow
@pytest.mark.parametrize(("fixture", "account", "readers"), SERVERS)
def test_a_password_in_the_study_file_is_stored_shown_and_logged_nowhere(request, fixture, account, readers, tmp_path):
    server = account(request.getfixturevalue(fixture))
    url, dump_command = next(server)
    request.addfinalizer(server.close)  # drops the MariaDB account, before the fixture drops the database
    require(shutil.which(dump_command[0]) is not None, f"{dump_command[0]} is not installed")
    text = (
        f"# The team's database: {url}\n# (the password is {PASSWORD}; keep it out of the repository)\n"
        + TINY_STUDY.replace("n_trials: 3", "n_trials: 2").replace("epochs: 2", "epochs: 1")
        + f"storage: {url}\nartifacts: {{store: artifacts, save_models: all}}\n"
    )
    (tmp_path / "tiny.yaml").write_text(text)
    outputs = []
    with CommandLines(tmp_path) as command_lines:
        run = subprocess.run(
            [sys.executable, "-m", "gapsearch", "--debug", "run", "tiny.yaml", "--workers", "2", "--no-progress"],
            cwd=tmp_path,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    outputs.append(run.stdout + run.stderr)
    assert command_lines.workers_seen == 2  # the watch saw the workers it searched
    assert command_lines.with_password == []
    with ThreadPoolExecutor(max_workers=3) as pool:
        outputs += pool.map(lambda args: _output(args, tmp_path), readers)
    (tmp_path / "other.yaml").write_text(text.replace("name: tiny", "name: other"))
    failed = gapsearch("--debug", "status", "other.yaml", cwd=tmp_path)  # an error line, and its traceback
    assert failed.returncode == 2 and "Traceback" in failed.stderr
    outputs.append(failed.stdout + failed.stderr)

    assert [PASSWORD in output for output in outputs] == [False] * len(outputs)
    dump = subprocess.run(dump_command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "name: tiny" in dump  # the stored study file is in the dump...
    assert PASSWORD not in dump  # ...and the password nowhere in the database
    stored = optuna.load_study(study_name="tiny", storage=url).user_attrs["study_file"]
    assert stored == text.replace(PASSWORD, MASK)  # masked wherever it was, comments included
    # The store names files by artifact id; the models are the zip files among them.
    assert sum(zipfile.is_zipfile(path) for path in (tmp_path / "artifacts").iterdir()) == 2
    assert _files_with_password(tmp_path / "artifacts") == []
    if (tmp_path / "report").exists():
        assert (tmp_path / "report" / "report.html").is_file()
        assert _files_with_password(tmp_path / "report") == []
    assert _files_with_password(tmp_path) == ["other.yaml", "tiny.yaml"]  # only the user's own files hold it
