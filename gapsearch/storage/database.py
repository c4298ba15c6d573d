"""The study database: resolving its URL, masking its password, opening it safely.

Optuna's RDB storage does the work; this module picks the URL (``--storage`` over
``GAPSEARCH_STORAGE`` over the study file over the SQLite default), holds the one policy
on schemes (:data:`DATABASES`: SQLite, PostgreSQL, MySQL/MariaDB, with an installed
driver filled in, anything else refused in one line), checks a database before anything
is written to it (another application's tables are refused), and turns connection
failures into one-line errors (:mod:`gapsearch.storage.failures`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import DatabaseUnreachable, StorageError
from gapsearch.masking import mask_url
from gapsearch.spec.study import DEFAULT_STORAGE
from gapsearch.spec.workers import GRACE_PERIOD, HEARTBEAT_INTERVAL
from gapsearch.storage.failures import foreign_tables, unusable_database

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec
    from gapsearch.storage.retry import OutageWindow

STORAGE_ENV = "GAPSEARCH_STORAGE"


@dataclass(frozen=True)
class _Database:
    """A database gapsearch keeps studies in: its name and the drivers tried, in order, for a bare scheme."""

    label: str
    drivers: tuple[tuple[str, str], ...]  # (SQLAlchemy's driver name, the module it imports)
    extra: str  # the gapsearch extra that installs a driver


_MYSQL_DRIVERS = (("mysqldb", "MySQLdb"), ("pymysql", "pymysql"))
#: The schemes gapsearch accepts; a driver may be named too (``postgresql+psycopg://``), any that SQLAlchemy
#: has for the database, if it is installed and synchronous.
DATABASES = {
    "sqlite": _Database("SQLite", (("pysqlite", "sqlite3"),), ""),
    "postgresql": _Database("PostgreSQL", (("psycopg2", "psycopg2"), ("psycopg", "psycopg")), "postgres"),
    "mysql": _Database("MySQL", _MYSQL_DRIVERS, "mysql"),
    "mariadb": _Database("MariaDB", _MYSQL_DRIVERS, "mysql"),
}
#: Other names of those schemes: Heroku-style DATABASE_URLs say postgres://, which SQLAlchemy 1.4 dropped.
SCHEME_ALIASES = {"postgres": "postgresql"}
ACCEPTED = "use sqlite:///FILE, postgresql://USER@HOST/DB (or postgres://) or mysql://USER@HOST/DB (or mariadb://)"


def resolve_storage_url(option: str | None, study_storage: str | None) -> str:
    """The storage URL in force: ``--storage``, then ``$GAPSEARCH_STORAGE``, then the study file, then the default."""
    return option or os.environ.get(STORAGE_ENV) or study_storage or DEFAULT_STORAGE


def study_storage_url(option: str | None, spec: StudySpec | None) -> str:
    """The storage URL in force for ``spec`` (none: no study file was given): see :func:`resolve_storage_url`."""
    return resolve_storage_url(option, spec.storage if spec is not None else None)


def driver_url(url: str) -> str:
    """The URL SQLAlchemy opens for storage ``url``: its scheme's alias resolved, an installed driver filled in.

    Raises:
        StorageError: one line naming the masked URL, what is wrong and what is accepted: the URL is
            malformed, its database is none of :data:`DATABASES`, or the driver is unknown to SQLAlchemy,
            not installed or asynchronous (Optuna's storage is synchronous).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"storage {mask_url(url)!r} is not a database URL; expected for example sqlite:///gapsearch.db "
            "or postgresql://user@host/db"
        ) from None
    where = f"storage {mask_url(url)!r}"
    scheme, _, driver = parsed.drivername.partition("+")
    scheme = SCHEME_ALIASES.get(scheme, scheme)
    database = DATABASES.get(scheme)
    if database is None:
        raise StorageError(
            f"{where}: gapsearch keeps studies in SQLite, PostgreSQL or MySQL/MariaDB, not {scheme!r}; {ACCEPTED}"
        )
    installed = [name for name, module in database.drivers if _installed(module)]
    bare = mask_url(parsed.set(drivername=scheme).render_as_string(hide_password=False))
    if installed:
        instead = f"use {bare} (gapsearch picks {installed[0]})"
    else:
        instead = f"pip install 'gapsearch[{database.extra}]' and use {bare}"
    if not driver:
        if not installed:
            drivers = " or ".join(module for _, module in database.drivers)
            raise StorageError(f"{where}: no {database.label} driver ({drivers}) is installed; {instead}")
        driver = installed[0]
    full = parsed.set(drivername=f"{scheme}+{driver}")
    try:
        dialect = full.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise StorageError(f"{where}: SQLAlchemy has no {database.label} driver {driver!r}; {instead}") from None
    except ImportError as error:
        raise StorageError(
            f"{where}: the {database.label} driver {driver!r} is not installed ({error}); {instead}, or install it"
        ) from None
    if dialect.is_async:
        raise StorageError(f"{where}: {driver!r} is an asyncio driver, which Optuna cannot use; {instead}")
    return full.render_as_string(hide_password=False)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several local processes share one file: wait up to a minute for the lock instead of failing at once
        # (SQLite's busy timeout); the storage's retry layer (gapsearch.storage.retry) retries what still fails.
        return {"connect_args": {"timeout": 60}}
    return {
        "pool_pre_ping": True,
        "pool_size": 2,
        "max_overflow": 2,
        "pool_recycle": 1800,
        "connect_args": {"connect_timeout": 10},
    }


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases or in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def check_database(url: str, *, create: bool = True, wait_seconds: float = 0) -> None:
    """Check the study database at ``url`` as :func:`open_storage` would, writing nothing and creating no file.

    ``gapsearch run`` and ``create`` call it before they load data or create anything, so that a bad
    URL, an unreachable server, a refused user, a missing database or another application's database
    stops them at once (``wait_seconds``: see :func:`open_storage`).

    Raises:
        StorageError: as :func:`open_storage`.
    """
    full_url, path = _checked_url(url, create)
    window = _opening_window(url, wait_seconds)
    window.call(lambda: _check_tables(url, full_url, path), "opening it", (DatabaseUnreachable,), give_up=_itself)


def open_storage(
    url: str,
    *,
    create: bool = True,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    grace_period: int = GRACE_PERIOD,
    max_retries: int | None = None,
    wait_seconds: float = 0,
    outage_window: float | None = None,
) -> optuna.storages.RDBStorage:
    """Open (and with ``create``, set up) the study database at ``url``.

    Running trials send a heartbeat every ``heartbeat_interval`` seconds; a trial silent for
    ``grace_period`` seconds is failed by the next worker that looks, and with ``max_retries``
    queued again with its parameters up to that many times. With ``wait_seconds``, a database that
    cannot be reached is tried again until that many seconds have passed (a worker that starts
    before its database, or while connections are being dropped); a server that refuses the user
    is not. Once open, every call waits out an outage of up to ``outage_window`` seconds in total
    (default 60; see :mod:`gapsearch.storage.retry`).

    Raises:
        StorageError: the URL is malformed or not accepted (:func:`driver_url`), or the database cannot
            be used (:func:`gapsearch.storage.failures.unusable_database`: unreachable, refusing the user,
            missing, without Optuna's tables, or holding another application's tables, in which case
            nothing is written); with ``create=False``, also when a SQLite file does not exist (nothing is
            created then).
    """
    import warnings

    import optuna

    # Heartbeats are how crashed workers' trials get failed and retried; Optuna still flags them experimental.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning, module="optuna")
    full_url, path = _checked_url(url, create)
    from gapsearch.storage.requeue import RetryWithParameters

    retry = RetryWithParameters(max_retries) if max_retries is not None else None
    from gapsearch.spec.workers import OUTAGE_WINDOW
    from gapsearch.storage.retry import OutageWindow, ReconnectingRDBStorage

    window = OUTAGE_WINDOW if outage_window is None else outage_window

    def connect() -> optuna.storages.RDBStorage:
        _check_tables(url, full_url, path)  # before Optuna creates its tables there
        with _one_line(url):
            storage = ReconnectingRDBStorage(
                full_url,
                engine_kwargs=_engine_kwargs(full_url),
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=retry,
                skip_table_creation=not create,
            )
            if path is not None:
                _use_write_ahead_log(storage)
        storage.outage = OutageWindow(window, f"the study database {mask_url(url)}")
        return storage

    # Only an unreachable server is waited for (a missing database or table will not appear, a refused user
    # will not be let in), through the same retry as every later call; then its own line is raised.
    return _opening_window(url, wait_seconds).call(connect, "opening it", (DatabaseUnreachable,), give_up=_itself)


def _checked_url(url: str, create: bool) -> tuple[str, Path | None]:
    """The URL to open (:func:`driver_url`) and its SQLite file, which must exist (with ``create``, its folder)."""
    full_url = driver_url(url)
    path = sqlite_path(full_url)
    if path is not None and not create and not path.is_file():
        where = path if path.is_absolute() else f"{path} in {Path.cwd()}"  # a relative path is the folder's
        raise StorageError(f"no study database at {where}; run `gapsearch run` first or pass --storage")
    if path is not None and create and not path.parent.is_dir():
        raise StorageError(f"storage {mask_url(url)}: the folder {path.parent} does not exist")
    return full_url, path


def _opening_window(url: str, wait_seconds: float) -> OutageWindow:
    from gapsearch.storage.retry import OutageWindow

    return OutageWindow(wait_seconds, f"the study database {mask_url(url)}")


def _itself(error: BaseException) -> BaseException:
    return error


@contextlib.contextmanager
def _one_line(url: str) -> Iterator[None]:
    """Turn what the driver raises when a database cannot be used into its one line (see ``failures``)."""
    import optuna
    import sqlalchemy.exc

    try:
        yield
    except (
        optuna.exceptions.StorageInternalError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.ProgrammingError,
    ) as error:
        raise unusable_database(url, error) from None


def _check_tables(url: str, full_url: str, path: Path | None) -> None:
    """Connect once, writing nothing, and refuse a database that holds another application's tables.

    A SQLite file that does not exist yet is empty: connecting would create it, so it is left alone.
    """
    if path is not None and not path.exists():
        return
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    from gapsearch.optuna_compat import optuna_table_names

    connect_args = _engine_kwargs(full_url)["connect_args"]
    engine = sqlalchemy.create_engine(full_url, poolclass=NullPool, connect_args=connect_args)
    try:
        with _one_line(url):
            tables = sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    refusal = foreign_tables(url, tables, optuna_table_names())
    if refusal is not None:
        raise refusal


def _use_write_ahead_log(storage: optuna.storages.RDBStorage) -> None:
    """Put a SQLite file in WAL mode: readers never block the writer, so local workers rarely wait.

    WAL is a property of the file, so setting it once is enough; it needs a local file system.
    """
    import sqlalchemy

    with storage.engine.connect() as connection:
        if connection.execute(sqlalchemy.text("PRAGMA journal_mode")).scalar() != "wal":
            connection.execute(sqlalchemy.text("PRAGMA journal_mode=WAL"))


def load_existing_study(url: str, name: str, **heartbeat: int) -> optuna.Study:
    """Load study ``name`` from ``url`` without creating anything (``heartbeat``: see :func:`open_storage`)."""
    import optuna

    storage = open_storage(url, create=False, **heartbeat)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = ", ".join(repr(s.study_name) for s in optuna.get_all_study_summaries(storage)) or "none"
        raise StorageError(f"no study {name!r} in {mask_url(url)}; studies there: {names}") from None
