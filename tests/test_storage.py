"""The study database: URL resolution, password masking, schemes and drivers, unreachable servers, refused
users, and databases that belong to another application."""

from __future__ import annotations

import importlib.util
import time

import pytest
import sqlalchemy

from gapsearch.errors import DatabaseAccessDenied, StorageError
from gapsearch.storage import database
from gapsearch.storage.database import (
    check_database,
    driver_url,
    load_existing_study,
    mask_url,
    open_storage,
    resolve_storage_url,
)
from gapsearch.storage.retry import DatabaseLost


def test_storage_precedence(monkeypatch):
    monkeypatch.delenv("GAPSEARCH_STORAGE", raising=False)
    assert resolve_storage_url(None, None) == "sqlite:///gapsearch.db"
    assert resolve_storage_url(None, "sqlite:///from-file.db") == "sqlite:///from-file.db"
    monkeypatch.setenv("GAPSEARCH_STORAGE", "sqlite:///from-env.db")
    assert resolve_storage_url(None, "sqlite:///from-file.db") == "sqlite:///from-env.db"
    assert resolve_storage_url("sqlite:///from-option.db", "sqlite:///from-file.db") == "sqlite:///from-option.db"


def test_password_is_masked():
    assert (
        mask_url("postgresql://alice:s3cret@db.example:5432/studies")
        == "postgresql://alice:***@db.example:5432/studies"
    )
    assert mask_url("sqlite:///gapsearch.db") == "sqlite:///gapsearch.db"


def test_malformed_url_is_a_user_error():
    with pytest.raises(StorageError) as caught:
        open_storage("not a url")
    assert str(caught.value) == (
        "storage 'not a url' is not a database URL; expected for example sqlite:///gapsearch.db "
        "or postgresql://user@host/db"
    )


def test_unreachable_postgres_names_the_masked_url():
    with pytest.raises(StorageError) as caught:
        open_storage("postgresql://alice:s3cret@127.0.0.1:1/studies")
    message = str(caught.value)
    assert message.startswith("cannot reach the study database postgresql://alice:***@127.0.0.1:1/studies: ")
    assert "s3cret" not in message and "\n" not in message


def test_reading_commands_never_create_a_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    with pytest.raises(StorageError) as caught:
        load_existing_study(url, "quickstart")
    assert (
        str(caught.value)
        == f"no study database at {tmp_path / 'absent.db'}; run `gapsearch run` first or pass --storage"
    )
    assert not (tmp_path / "absent.db").exists()


def test_unknown_study_lists_the_ones_there(tmp_path):
    import optuna

    url = f"sqlite:///{tmp_path / 'g.db'}"
    optuna.create_study(study_name="other", storage=url)
    with pytest.raises(StorageError) as caught:
        load_existing_study(url, "quickstart")
    assert str(caught.value) == f"no study 'quickstart' in {url}; studies there: 'other'"


@pytest.mark.postgres
def test_postgres_bare_url_gets_an_installed_driver(postgres_url):
    bare = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    storage = open_storage(bare)
    assert storage.get_all_studies() == []


@pytest.mark.mysql
def test_mariadb_bare_url_gets_an_installed_driver(mysql_url):
    bare = mysql_url.replace("mysql+pymysql://", "mysql://")
    storage = open_storage(bare)
    assert storage.get_all_studies() == []


@pytest.mark.postgres
def test_postgres_scheme_is_postgresql(postgres_url):
    heroku = postgres_url.replace("postgresql+psycopg://", "postgres://")
    assert driver_url(heroku).startswith("postgresql+psycopg")
    storage = open_storage(heroku)
    assert storage.get_all_studies() == []


@pytest.mark.mysql
def test_mariadb_scheme_gets_an_installed_driver(mysql_url):
    storage = open_storage(mysql_url.replace("mysql+pymysql://", "mariadb://"))
    assert storage.get_all_studies() == []


ACCEPTED = "use sqlite:///FILE, postgresql://USER@HOST/DB (or postgres://) or mysql://USER@HOST/DB (or mariadb://)"
REFUSED = {
    "an unknown scheme": (
        None,
        "oracle://scott:tiger1@db/orcl",
        "storage 'oracle://scott:***@db/orcl': gapsearch keeps studies in SQLite, PostgreSQL or MySQL/MariaDB, "
        f"not 'oracle'; {ACCEPTED}",
    ),
    "a driver SQLAlchemy lacks": (
        None,
        "postgresql+nosuch://alice:s3cret@db/studies",
        "storage 'postgresql+nosuch://alice:***@db/studies': SQLAlchemy has no PostgreSQL driver 'nosuch'; "
        "use postgresql://alice:***@db/studies (gapsearch picks psycopg)",
    ),
    "a driver that is not installed": (
        "MySQLdb",
        "mysql+mysqldb://root:s3cret@db/studies",
        "storage 'mysql+mysqldb://root:***@db/studies': the MySQL driver 'mysqldb' is not installed "
        "(No module named 'MySQLdb'); use mysql://root:***@db/studies (gapsearch picks pymysql), or install it",
    ),
    "an asyncio driver": (
        None,
        "postgresql+psycopg_async://alice:s3cret@db/studies",
        "storage 'postgresql+psycopg_async://alice:***@db/studies': 'psycopg_async' is an asyncio driver, which "
        "Optuna cannot use; use postgresql://alice:***@db/studies (gapsearch picks psycopg)",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_scheme_gapsearch_cannot_use_is_refused_in_one_line(case, tmp_path):
    absent, url, expected = REFUSED[case]
    if absent is not None and importlib.util.find_spec(absent) is not None:
        pytest.skip(f"{absent} is installed here")
    for call in (lambda: driver_url(url), lambda: open_storage(url), lambda: load_existing_study(url, "tiny")):
        with pytest.raises(StorageError) as caught:
            call()
        assert str(caught.value) == expected


def test_a_bare_scheme_without_an_installed_driver_says_what_to_install(monkeypatch):
    monkeypatch.setattr(database, "_installed", lambda module: False)
    with pytest.raises(StorageError) as caught:
        open_storage("mysql://root:s3cret@db/studies")
    assert str(caught.value) == (
        "storage 'mysql://root:***@db/studies': no MySQL driver (MySQLdb or pymysql) is installed; "
        "pip install 'gapsearch[mysql]' and use mysql://root:***@db/studies"
    )


def _mlflow_tables(url: str) -> list[str]:
    """Create some of an MLflow tracking database's tables at ``url``; their names."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        for table in ("experiments", "runs", "metrics", "alembic_version"):
            connection.execute(sqlalchemy.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    return table_names(url)


def table_names(url: str) -> list[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        return sorted(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "server",
    [
        "sqlite",
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mysql_url", marks=pytest.mark.mysql),
    ],
)
def test_a_database_of_another_application_is_refused_before_anything_is_written(server, request, tmp_path):
    url = f"sqlite:///{tmp_path / 'mlflow.db'}" if server == "sqlite" else request.getfixturevalue(server)
    before = _mlflow_tables(url)
    for create in (True, False):
        with pytest.raises(StorageError) as caught:
            open_storage(url, create=create)
        assert str(caught.value) == (
            f"the study database {url} holds MLflow's tracking tables (experiments, metrics, runs) and not Optuna's; "
            "the study and MLflow need a database each: give the study another one (for example "
            "sqlite:///gapsearch.db, with tracking.mlflow.tracking_uri: sqlite:///mlflow.db); nothing was written"
        )
        with pytest.raises(StorageError):
            check_database(url)
    assert table_names(url) == before


def test_a_database_holding_optunas_tables_beside_others_is_fine(tmp_path):
    import optuna

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    optuna.create_study(study_name="tiny", storage=url)
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    check_database(url)
    assert [s.study_name for s in open_storage(url).get_all_studies()] == ["tiny"]


def test_checking_a_new_sqlite_database_creates_no_file(tmp_path):
    check_database(f"sqlite:///{tmp_path / 'new.db'}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_a_role_the_server_does_not_know_is_refused_at_once(postgres_url):
    unknown = sqlalchemy.engine.make_url(postgres_url).set(username="gs_no_such_role", password="s3cret")
    url = unknown.render_as_string(hide_password=False)
    began = time.monotonic()
    with pytest.raises(DatabaseAccessDenied) as caught:
        open_storage(url, create=False, wait_seconds=30)  # as a worker opens it: an outage would be waited for
    assert time.monotonic() - began < 5
    masked = url.replace("s3cret", "***")
    assert str(caught.value) == (
        f"access denied for user 'gs_no_such_role' to the study database {masked} (connection failed: connection "
        'to server at "127.0.0.1", port 5432 failed: FATAL: role "gs_no_such_role" does not exist); check the '
        "user and password (in the URL, PGPASSWORD or ~/.pgpass, or the MySQL option file); a refused login is "
        "not retried"
    )


@pytest.mark.mysql
def test_a_wrong_password_is_refused_at_once_and_a_changed_one_is_no_outage(mariadb_user, mysql_url):
    parsed = sqlalchemy.engine.make_url(mariadb_user)
    wrong = parsed.set(password="wrong").render_as_string(hide_password=False)
    began = time.monotonic()
    with pytest.raises(DatabaseAccessDenied) as caught:
        open_storage(wrong, create=False, wait_seconds=30)
    assert time.monotonic() - began < 5
    masked = wrong.replace(":wrong@", ":***@")
    assert str(caught.value) == (
        f"access denied for user '{parsed.username}' to the study database {masked} ((1045, \"Access denied for "
        f"user '{parsed.username}'@'127.0.0.1'\")); check the user and password (in the URL, PGPASSWORD or "
        "~/.pgpass, or the MySQL option file); a refused login is not retried"
    )
    # A worker whose password is changed while it runs: its next connection is refused, and it says so at once.
    storage = open_storage(mariadb_user, outage_window=60)
    admin = sqlalchemy.create_engine(mysql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"ALTER USER '{parsed.username}'@'%' IDENTIFIED BY 'changed'"))
    admin.dispose()
    storage.engine.dispose()  # the pool's connections go: the next call logs in again
    began = time.monotonic()
    with pytest.raises(DatabaseLost) as lost:
        storage.get_all_studies()
    assert time.monotonic() - began < 5
    assert str(lost.value) == (
        f"the study database {mariadb_user.replace(':right@', ':***@')} refused the login (while calling "
        f"get_all_studies): (1045, \"Access denied for user '{parsed.username}'@'127.0.0.1'\"); a refused login "
        "is not an outage, so it is not waited for"
    )
