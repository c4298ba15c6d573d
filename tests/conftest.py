"""Shared fixtures: paths to the real datasets, real database servers, a tiny study file."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = (ROOT / ".." / "shared" / "datasets").resolve()
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, why: str) -> None:
    """Skip when something outside the repository is missing; in CI that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {why}")
    pytest.skip(why)


def require_module(name: str):  # noqa: ANN201 - the module
    """Import ``name`` (an optional backend or extra); skip without it, but in CI (CI=true) fail instead."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        require(False, f"{name} cannot be imported ({error}); install the test extra: pip install -e '.[test]'")


@pytest.fixture(scope="session")
def datasets() -> Path:
    require(DATASETS.is_dir(), f"the shared datasets are missing at {DATASETS}")
    return DATASETS


def _server_database(create_url: str, make_url, drop) -> Iterator[str]:  # noqa: ANN001
    import sqlalchemy

    name = f"gapsearch_test_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(create_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    except sqlalchemy.exc.OperationalError as error:
        engine.dispose()
        require(False, f"the database server is unreachable: {str(error.orig).splitlines()[0]}")
    try:
        yield make_url(name)
    finally:
        with engine.connect() as connection:
            drop(connection, name)
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    import sqlalchemy

    def drop(connection, name):  # noqa: ANN001
        connection.execute(
            sqlalchemy.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
        )
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))

    yield from _server_database(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        lambda name: f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        drop,
    )


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A fresh MariaDB database on the local server, dropped afterwards."""
    import sqlalchemy

    yield from _server_database(
        "mysql+pymysql://root@127.0.0.1:3306/",
        lambda name: f"mysql+pymysql://root@127.0.0.1:3306/{name}",
        lambda connection, name: connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}")),
    )


@pytest.fixture
def mariadb_user(mysql_url: str) -> Iterator[str]:
    """An account of the test's own on a fresh MariaDB database, password ``right``: its URL; dropped afterwards.

    The local PostgreSQL server trusts every local connection, so a password is checked only by MariaDB.
    """
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(mysql_url)
    user = f"gs_test_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(parsed.set(database=""), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right'"))
        connection.execute(sqlalchemy.text(f"GRANT ALL ON {parsed.database}.* TO '{user}'@'%'"))
    try:
        yield parsed.set(username=user, password="right").render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


TINY_STUDY = """\
name: tiny
metric: val_accuracy
direction: maximize
n_trials: 3
seed: 3
sampler: {type: random}
pruner: {type: none}
data: {format: synthetic, n_examples: 240, min_length: 4, max_length: 30}
model:
  max_tokens: 300
  sequence_length: 30
  epochs: 2
  patience: 0
  batch_size: 32
  filters: 8
search_space:
  embedding_dim: [4, 8]
  pooling: [average, max, attention]
  attention_units: {low: 4, high: 8, when: {pooling: attention}}
"""


@pytest.fixture
def tiny_study(tmp_path: Path) -> Path:
    """A study file that runs 3 trials in seconds."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_STUDY)
    return path


def cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI subprocess: this checkout's package first, no inherited storage override."""
    full_env = {k: v for k, v in os.environ.items() if k != "GAPSEARCH_STORAGE"}
    pythonpath = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p)
    full_env.update({"PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": pythonpath, **(env or {})})
    return full_env


#: Where `make test` installs JAX, apart from the environment (see the Makefile's JAX_SITE).
JAX_SITE = Path(sys.prefix) / "jax-site"


def jax_env() -> dict[str, str]:
    """The environment of a CLI subprocess that trains under the JAX backend (required in CI)."""
    require((JAX_SITE / "jax").is_dir(), f"JAX is not installed in {JAX_SITE}; `make test` installs it there")
    pythonpath = os.pathsep.join(p for p in (str(ROOT), str(JAX_SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {"KERAS_BACKEND": "jax", "PYTHONPATH": pythonpath}


def start_run(*args: str, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``gapsearch run ARGS --no-progress`` and wait for its first finished trial.

    Returns the running process and that trial's line; lines before it (the data line) are skipped.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "gapsearch", "run", *args, "--no-progress"],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    for line in iter(process.stdout.readline, ""):
        if line.startswith("trial "):
            return process, line
    raise AssertionError("the run ended before any trial finished:\n" + process.stderr.read())


def wait_until_training(database: Path, name: str = "tiny", timeout: float = 60) -> None:
    """Wait until a RUNNING trial has reported an epoch: a signal sent now lands inside its training."""
    import optuna

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        study = optuna.load_study(study_name=name, storage=f"sqlite:///{database}")
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if any(trial.intermediate_values for trial in running):
            return
        time.sleep(0.05)
    raise AssertionError(f"no trial of {name} in {database} started training within {timeout}s")


def gapsearch(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a fresh process, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "gapsearch", *args],
        cwd=cwd,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"gapsearch {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@contextlib.contextmanager
def _process_state_kept() -> Iterator[None]:
    """Put back what a command run in this process changes: the working directory, the environment, the root
    logger's handlers and formatters, TensorFlow's and absl's logger levels, Optuna's verbosity, how warnings
    are shown, and Python's and NumPy's random state (Keras seeds them for each trial)."""
    import logging
    import random
    import warnings

    import optuna

    cwd = os.getcwd()
    environ = dict(os.environ)
    root = logging.getLogger()
    handlers = [(handler, handler.formatter) for handler in root.handlers]
    levels = {name: logging.getLogger(name).level for name in ("", "tensorflow", "absl")}
    verbosity = optuna.logging.get_verbosity()
    showwarning = warnings.showwarning
    python_random = random.getstate()
    numpy = sys.modules.get("numpy")
    numpy_random = numpy.random.get_state() if numpy is not None else None
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        root.handlers[:] = [handler for handler, _ in handlers]
        for handler, formatter in handlers:
            handler.setFormatter(formatter)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        optuna.logging.set_verbosity(verbosity)
        warnings.showwarning = showwarning
        random.setstate(python_random)
        if numpy_random is not None:
            numpy.random.set_state(numpy_random)


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, check: bool = False):  # noqa: ANN201 - click's Result
    """Run the real CLI in this process (click's runner: TensorFlow starts once), as ``gapsearch ARGS`` from ``cwd``
    with ``env`` added to the environment (that of :func:`cli_env`, so that a process the command starts is as
    :func:`gapsearch`'s).

    The result has ``exit_code``, ``stdout``, ``stderr`` and ``output`` (both, as a terminal shows them). No traceback
    and no exception other than the exit may come out of it; with ``check``, the exit code must be 0. What the command
    changed in this process is put back (:func:`_process_state_kept`), so that no test depends on another's order.
    Output of a process the command starts (``run``'s watched child) goes to this process' file descriptors, not
    into the result: a test that reads what ``run`` printed runs :func:`gapsearch`.
    """
    from click.testing import CliRunner

    from gapsearch.cli import main

    added = {"GAPSEARCH_STORAGE": None, **{k: v for k, v in cli_env(env).items() if os.environ.get(k) != v}}
    with _process_state_kept():
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(main, list(args), catch_exceptions=True, env=added)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if check and result.exit_code != 0:
        raise AssertionError(f"gapsearch {' '.join(args)} exited {result.exit_code}\n{result.output}")
    return result


@dataclass(frozen=True)
class FinishedStudy:
    """A tiny study that has run: its folder (the working directory), study file, database and artifact store, and
    what its run printed on stdout."""

    folder: Path
    study_file: Path
    storage: str
    artifacts: Path
    run_output: str = ""
    name: str = "tiny"


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> FinishedStudy:
    """The tiny study run once to 4 trials by the real CLI, with its artifacts (save_models: best), shared.

    Its tests only read it; a test that writes to a study takes :func:`finished_study_copy`.
    """
    folder = tmp_path_factory.mktemp("finished-study")
    study_file = folder / "tiny.yaml"
    study_file.write_text(TINY_STUDY + "artifacts: {store: artifacts}\n")
    run = gapsearch("run", "tiny.yaml", "--n-trials", "4", "--no-progress", cwd=folder, check=True)
    return FinishedStudy(folder, study_file, "sqlite:///gapsearch.db", folder / "artifacts", run.stdout)


@pytest.fixture
def finished_study_copy(finished_study: FinishedStudy, tmp_path: Path) -> FinishedStudy:
    """A copy of :func:`finished_study` (its folder: study file, database, artifacts and data cache) of the test's
    own, to write to."""
    import shutil

    folder = tmp_path / "finished-study"
    shutil.copytree(finished_study.folder, folder)
    return FinishedStudy(
        folder, folder / "tiny.yaml", finished_study.storage, folder / "artifacts", finished_study.run_output
    )
