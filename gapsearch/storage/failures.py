"""What a failed database call means: the driver's own error, and the one line each kind of failure gets.

A study database that cannot be used fails in one of five ways, told apart by what the driver says
(PostgreSQL through psycopg, MySQL/MariaDB through PyMySQL or mysqlclient, SQLite): the server does
not answer (an outage: waiting may help), it refuses the user (a wrong password, an unknown user, no
access from this host: waiting never helps, and repeated tries may lock the account), the database
does not exist, it holds no Optuna tables, or it holds another application's tables. The storage
layer opens a database and retries calls through these (:mod:`gapsearch.storage.database`,
:mod:`gapsearch.storage.retry`), so the policy is the same for every command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gapsearch.errors import DatabaseAccessDenied, DatabaseUnreachable, StorageError
from gapsearch.masking import mask_secrets, mask_url

# What the drivers say when the server refuses the user: PostgreSQL (a wrong password, an unknown role, no
# pg_hba.conf line for this host, user or database, no password given, no CONNECT privilege) and
# MySQL/MariaDB (errors 1044, 1045 and 1698, all "Access denied for user ...").
_ACCESS_DENIED = re.compile(
    r"password authentication failed for user|role \"[^\"]+\" does not exist|no pg_hba\.conf entry"
    r"|no password supplied|permission denied for database|Access denied for user"
)
# ... when the database is missing, and when it holds no Optuna tables (PostgreSQL, MySQL/MariaDB, SQLite).
_MISSING_DATABASE = re.compile(r"database \"[^\"]+\" does not exist|Unknown database '[^']+'")
_MISSING_TABLES = re.compile(r"relation \"\w+\" does not exist|Table '[^']+' doesn't exist|no such table")
# MySQL adds whether a password was sent; the line says what to check anyway.
_USING_PASSWORD = re.compile(r" \(using password: (?:YES|NO)\)")
_SHOWN_TABLES = 6  # a foreign database's tables named in its line, the rest counted
_MLFLOW_TABLES = {"experiments", "runs"}  # an MLflow tracking store's (sqlite:///mlflow.db, its default in MLflow 3)


def driver_error(error: BaseException) -> BaseException:
    """The driver's own error under Optuna's and SQLAlchemy's wrappers (itself when unwrapped)."""
    cause = error
    while True:
        inner = getattr(cause, "orig", None) or cause.__cause__
        if inner is None or inner is cause:
            return cause
        cause = inner


def driver_reason(error: BaseException, url: str = "") -> str:
    """The first line of the driver's message, whitespace collapsed and secrets masked."""
    cause = driver_error(error)
    lines = [" ".join(line.split()) for line in str(cause).splitlines() if line.strip()]
    return mask_secrets(_USING_PASSWORD.sub("", lines[0]) if lines else type(cause).__name__, also=(url,))


def is_access_denied(error: BaseException) -> bool:
    """Whether ``error`` (any wrapper of it) is the server refusing the user: never worth waiting for."""
    return bool(_ACCESS_DENIED.search(str(driver_error(error))))


def unusable_database(url: str, error: BaseException) -> StorageError:
    """The one line for a study database that cannot be opened, naming the masked URL and the real cause.

    The one policy of every command that opens a study database: an unreachable server, a refused user,
    a missing database and a database without Optuna's tables each get their own line (and exit code 2);
    only an unreachable server (:class:`DatabaseUnreachable`) is ever waited for.
    """
    reason = driver_reason(error, url)
    where = f"the study database {mask_url(url)}"
    if is_access_denied(error):
        return access_denied(url, reason)
    if _MISSING_TABLES.search(reason):
        return StorageError(
            f"{where} has no Optuna tables ({reason}); no study was ever created there: "
            "create one with `gapsearch run` or `gapsearch create`, or fix the URL"
        )
    if _MISSING_DATABASE.search(reason):
        return StorageError(f"{where} does not exist ({reason}); create the database first, or fix the URL")
    return DatabaseUnreachable(f"cannot reach {where}: {reason}")


def access_denied(url: str, reason: str) -> DatabaseAccessDenied:
    """The line for a server that refused the URL's user (``reason``: the driver's words, masked)."""
    from sqlalchemy.engine import make_url

    user = make_url(url).username
    whom = f" for user {user!r}" if user else ""
    return DatabaseAccessDenied(
        f"access denied{whom} to the study database {mask_url(url)} ({reason}); check the user and password "
        "(in the URL, PGPASSWORD or ~/.pgpass, or the MySQL option file); a refused login is not retried"
    )


def foreign_tables(url: str, tables: Iterable[str], optuna_tables: Iterable[str]) -> StorageError | None:
    """The line for a database that holds another application's tables and not Optuna's (None: usable).

    An empty database is usable (Optuna creates its tables there), and so is one holding Optuna's
    ``studies`` and ``version_info`` beside other tables (a study database that other tools share), or
    only some of Optuna's tables (an interrupted set-up, which Optuna completes).
    """
    found = set(tables)
    others = sorted(found - set(optuna_tables))
    if not others or {"studies", "version_info"} <= found:
        return None
    shown = ", ".join(others[:_SHOWN_TABLES]) + (
        f" and {len(others) - _SHOWN_TABLES} more" if len(others) > _SHOWN_TABLES else ""
    )
    if found >= _MLFLOW_TABLES:
        return StorageError(
            f"the study database {mask_url(url)} holds MLflow's tracking tables ({shown}) and not Optuna's; the "
            "study and MLflow need a database each: give the study another one (for example sqlite:///gapsearch.db, "
            "with tracking.mlflow.tracking_uri: sqlite:///mlflow.db); nothing was written"
        )
    return StorageError(
        f"the study database {mask_url(url)} holds another application's tables ({shown}) and not Optuna's; "
        "gapsearch keeps studies only in an empty database or one that Optuna set up: give another database "
        "(for example sqlite:///gapsearch.db, or a new database on the server); nothing was written"
    )
