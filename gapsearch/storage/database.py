"""The study database: resolving its URL, masking its password, opening it safely.

Optuna's RDB storage does the work; this module picks the URL (``--storage`` over
``GAPSEARCH_STORAGE`` over the study file over the SQLite default), fills in an
installed driver, and turns connection failures into one-line errors.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapsearch.errors import DatabaseUnreachable, StorageError
from gapsearch.masking import mask_secrets, mask_url

if TYPE_CHECKING:
    import optuna

    from gapsearch.spec.study import StudySpec

STORAGE_ENV = "GAPSEARCH_STORAGE"
DEFAULT_STORAGE = "sqlite:///gapsearch.db"
HEARTBEAT_INTERVAL = 10
GRACE_PERIOD = 30

# Driver packages SQLAlchemy expects for a bare dialect, and the installed alternatives we can use instead.
_DRIVERS = {
    "postgresql": (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")),
    "mysql": (("MySQLdb", "mysql+mysqldb"), ("pymysql", "mysql+pymysql")),
    "mariadb": (("MySQLdb", "mariadb+mysqldb"), ("pymysql", "mariadb+pymysql")),
}


def resolve_storage_url(option: str | None, study_storage: str | None) -> str:
    """The storage URL in force: ``--storage``, then ``$GAPSEARCH_STORAGE``, then the study file, then the default."""
    return option or os.environ.get(STORAGE_ENV) or study_storage or DEFAULT_STORAGE


def study_storage_url(option: str | None, spec: StudySpec | None) -> str:
    """The storage URL in force for ``spec`` (none: no study file was given): see :func:`resolve_storage_url`."""
    return resolve_storage_url(option, spec.storage if spec is not None else None)


def _with_driver(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"storage {mask_url(url)!r} is not a database URL; expected for example sqlite:///gapsearch.db "
            "or postgresql://user@host/db"
        ) from None
    choices = _DRIVERS.get(parsed.drivername)
    if choices is None:
        return url
    for module, drivername in choices:
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=drivername).render_as_string(hide_password=False)
    extra = "postgres" if parsed.drivername == "postgresql" else "mysql"
    raise StorageError(
        f"storage {mask_url(url)}: no {parsed.drivername} driver is installed; pip install 'gapsearch[{extra}]'"
    )


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
    before its database, or while connections are being dropped). Once open, every call waits
    out an outage of up to ``outage_window`` seconds in total (default 60; see
    :mod:`gapsearch.storage.retry`).

    Raises:
        StorageError: the URL is malformed, its driver is missing, or the database cannot be used
            (:func:`unusable_database`: unreachable, missing, without Optuna's tables);
            with ``create=False``, also when a SQLite file does not exist (nothing is created then).
    """
    import warnings

    import optuna
    import sqlalchemy.exc

    # Heartbeats are how crashed workers' trials get failed and retried; Optuna still flags them experimental.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning, module="optuna")
    full_url = _with_driver(url)
    path = sqlite_path(full_url)
    if path is not None and not create and not path.is_file():
        raise StorageError(f"no study database at {path}; run `gapsearch run` first or pass --storage")
    if path is not None and create and not path.parent.is_dir():
        raise StorageError(f"storage {mask_url(url)}: the folder {path.parent} does not exist")
    from gapsearch.storage.requeue import RetryWithParameters

    retry = RetryWithParameters(max_retries) if max_retries is not None else None
    from gapsearch.storage.retry import DEFAULT_OUTAGE_WINDOW, OutageWindow, ReconnectingRDBStorage

    window = DEFAULT_OUTAGE_WINDOW if outage_window is None else outage_window
    database = f"the study database {mask_url(url)}"

    def connect() -> optuna.storages.RDBStorage:
        try:
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
        except (
            optuna.exceptions.StorageInternalError,
            sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.ProgrammingError,
        ) as error:
            raise unusable_database(url, error) from None
        storage.outage = OutageWindow(window, database)
        return storage

    # Only an unreachable server is waited for (a missing database or table will not appear), through the
    # same retry as every later call; once ``wait_seconds`` have passed, its own line is raised.
    return OutageWindow(wait_seconds, database).call(
        connect, "opening it", (DatabaseUnreachable,), give_up=lambda error: error
    )


# What the drivers say when the database is missing, and when it holds no Optuna tables (PostgreSQL,
# MySQL/MariaDB, SQLite); anything else is taken as an unreachable server.
_MISSING_DATABASE = re.compile(r"database \"[^\"]+\" does not exist|Unknown database '[^']+'")
_MISSING_TABLES = re.compile(r"relation \"\w+\" does not exist|Table '[^']+' doesn't exist|no such table")


def unusable_database(url: str, error: BaseException) -> StorageError:
    """The one line for a study database that cannot be opened, naming the masked URL and the real cause.

    The one policy of every command that opens a study database: an unreachable server, a missing
    database and a database without Optuna's tables each get their own line (and exit code 2).
    """
    cause: BaseException = error
    while True:  # Optuna wraps SQLAlchemy's error, which wraps the driver's
        inner = getattr(cause, "orig", None) or cause.__cause__
        if inner is None or inner is cause:
            break
        cause = inner
    lines = [" ".join(line.split()) for line in str(cause).splitlines() if line.strip()]
    reason = mask_secrets(lines[0] if lines else type(cause).__name__, also=(url,))
    where = f"the study database {mask_url(url)}"
    if _MISSING_TABLES.search(reason):
        return StorageError(
            f"{where} has no Optuna tables ({reason}); no study was ever created there: "
            "create one with `gapsearch run` or `gapsearch create`, or fix the URL"
        )
    if _MISSING_DATABASE.search(reason):
        return StorageError(f"{where} does not exist ({reason}); create the database first, or fix the URL")
    return DatabaseUnreachable(f"cannot reach {where}: {reason}")


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
