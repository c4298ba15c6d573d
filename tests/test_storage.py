"""The study database: URL resolution, password masking, drivers, unreachable servers."""

from __future__ import annotations

import pytest

from gapsearch.errors import StorageError
from gapsearch.storage.database import load_existing_study, mask_url, open_storage, resolve_storage_url


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
