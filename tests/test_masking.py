"""mask_secrets: every form of secret gapsearch may meet in a study file, a URL, a message or a log line,
masked exactly: the secret goes, every character around it stays."""

from __future__ import annotations

import logging
from urllib.parse import unquote

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from gapsearch.masking import MASK, MaskingFormatter, mask_secrets, mask_url

#: Every shape of storage URL a user meets, and what must be shown of it.
URLS = {
    "postgres:// (Heroku's DATABASE_URL)": (
        "postgres://alice:s3cret@db.example.com:5432/studies",
        "postgres://alice:***@db.example.com:5432/studies",
    ),
    "postgresql://": ("postgresql://alice:s3cret@db/studies", "postgresql://alice:***@db/studies"),
    "postgresql+psycopg://": ("postgresql+psycopg://alice:s3cret@db/x", "postgresql+psycopg://alice:***@db/x"),
    "postgresql+psycopg_async://": (
        "postgresql+psycopg_async://alice:s3cret@db/x",
        "postgresql+psycopg_async://alice:***@db/x",
    ),
    "mysql://": ("mysql://bob:pw0rd!@db:3306/x", "mysql://bob:***@db:3306/x"),
    "mysql+pymysql://": ("mysql+pymysql://bob:pw0rd@db/x", "mysql+pymysql://bob:***@db/x"),
    "mariadb://": ("mariadb://bob:pw0rd@db/x", "mariadb://bob:***@db/x"),
    "mariadb+mariadbconnector://": (
        "mariadb+mariadbconnector://bob:pw0rd@db/x",
        "mariadb+mariadbconnector://bob:***@db/x",
    ),
    "no password": ("postgresql://alice@db:5432/studies", None),
    "user only, no host part": ("mysql://alice@/x", None),
    "an empty password": ("postgresql://alice:@db/x", None),
    "no user": ("postgresql://db/studies", None),
    "a port is not a password": ("postgresql://db:5432/studies", None),
    "%40 and %3A escaped in the password": (
        "postgresql://alice:p%40ss%3Aw@db/studies",
        "postgresql://alice:***@db/studies",
    ),
    "a user with %40": ("mysql+pymysql://bob%40corp:s3cret@db/x", "mysql+pymysql://bob%40corp:***@db/x"),
    "@ and : unescaped in the password": (
        "postgresql://alice:p@ss:w@db:5432/studies",
        "postgresql://alice:***@db:5432/studies",
    ),
    "/ unescaped in the password": ("postgresql://alice:pa/ss@db/x", "postgresql://alice:***@db/x"),
    "a query": (
        "postgresql://alice:s3cret@db/studies?sslmode=require&application_name=gs",
        "postgresql://alice:***@db/studies?sslmode=require&application_name=gs",
    ),
    "the password in the query": (
        "postgresql://alice@db/x?sslmode=require&password=hunter22&connect_timeout=5",
        "postgresql://alice@db/x?sslmode=require&password=***&connect_timeout=5",
    ),
    "an @ in the query": ("postgresql://alice:s3cret@db/x?options=a@b", "postgresql://alice:***@db/x?options=a@b"),
    "IPv6 host": ("postgresql://alice:s3cret@[::1]/studies", "postgresql://alice:***@[::1]/studies"),
    "IPv6 host and port": ("mysql://bob:s3cret@[::1]:3306/x", "mysql://bob:***@[::1]:3306/x"),
    "IPv6 host, no password": ("postgresql://[::1]:5432/studies", None),
    "a Unix socket": (
        "postgresql://alice:s3cret@/studies?host=/var/run/postgresql",
        "postgresql://alice:***@/studies?host=/var/run/postgresql",
    ),
    "a user named like a secret (token)": (
        "postgresql://api_token:s3cret@db:5432/studies",
        "postgresql://api_token:***@db:5432/studies",
    ),
    "a user named like a secret (secret)": (
        "mysql://app_secret:s3cret@db/x",
        "mysql://app_secret:***@db/x",
    ),
    "a user named like a secret, no password": ("postgresql://api_token@db/studies", None),
    "SQLite, relative": ("sqlite:///gapsearch.db", None),
    "SQLite path with @ and :": ("sqlite:///runs/user@host/at:12:00/gapsearch.db", None),
    "SQLite absolute path like a URL": ("sqlite:////srv/alice:pw@db/x.db", None),
    "an MLflow server with a password": (
        "http://mlflow:tok3n@tracking.example:5000/#/experiments",
        "http://mlflow:***@tracking.example:5000/#/experiments",
    ),
}


@pytest.mark.parametrize("case", list(URLS))
def test_a_url_shows_everything_but_its_password(case):
    url, expected = URLS[case]
    assert mask_url(url) == (url if expected is None else expected)


@pytest.mark.parametrize("case", [c for c in URLS if "query" not in c and "MLflow" not in c])
def test_what_is_masked_is_the_password_sqlalchemy_sends(case):
    """Against SQLAlchemy's own parser: the text replaced by *** is, unescaped, URL.password (none: nothing)."""
    url, expected = URLS[case]
    try:
        password = make_url(url).password
    except ValueError:  # SQLAlchemy reads an unescaped "@" as the end of the password: it cannot read this URL
        assert case == "@ and : unescaped in the password"
        password = "p@ss:w"
    if expected is None:
        assert not password
        return
    head, tail = expected.split(MASK)
    assert url.startswith(head) and url.endswith(tail)
    assert unquote(url[len(head) : len(url) - len(tail)]) == password


#: Secrets in running text: messages, study files, log lines.
TEXTS = {
    "a URL in a message": (
        "storage 'postgresql://alice:s3cret@db/x': no such study",
        "storage 'postgresql://alice:***@db/x': no such study",
    ),
    "a URL in brackets": ("(postgresql://alice:s3cret@db/x)", "(postgresql://alice:***@db/x)"),
    "two URLs": (
        "from mysql://a:one1@h/d to postgresql://b:two2@h/d",
        "from mysql://a:***@h/d to postgresql://b:***@h/d",
    ),
    "libpq keywords": ("host=db password=hunter22 dbname=x", "host=db password=*** dbname=x"),
    "YAML keys": (
        'aws_secret_access_key: "AKIA1234"\napi_key: k-99\nmax_tokens: 300',
        'aws_secret_access_key: "***"\napi_key: ***\nmax_tokens: 300',
    ),
    "a key's value in brackets": ("(password: hunter22) [token=abc123]", "(password: ***) [token=***]"),
    "a value holding brackets": ('{password: "a(b)c"}', '{password: "***"}'),
    "MySQL's (using password: YES) is no secret": (
        "(1045, \"Access denied for user 'bob'@'localhost' (using password: YES)\")",
        None,
    ),
    "repeated in prose": (
        "storage: postgresql://a:Hunter-22@db/x  # the password is Hunter-22.",
        "storage: postgresql://a:***@db/x  # the password is ***.",
    ),
    "an e-mail address and ssh's user@host:port": ("ask alice@example.com; ssh git@host:22", None),
}


@pytest.mark.parametrize("case", list(TEXTS))
def test_mask_secrets(case):
    text, expected = TEXTS[case]
    assert mask_secrets(text) == (text if expected is None else expected)


def test_secrets_of_other_texts_are_masked_too():
    url = "postgresql://alice:from-the-env@db/studies"
    assert mask_secrets("# ask for from-the-env", also=(url,)) == "# ask for ***"
    assert mask_secrets("a pwd", also=("postgresql://u:pwd@h/d",)) == "a ***"  # short: whole words only
    assert mask_secrets("the pwdx", also=("postgresql://u:pwd@h/d",)) == "the pwdx"
    assert mask_url(url) == "postgresql://alice:***@db/studies"
    # As SQLAlchemy sends it: escaped in the URL, plain in a driver's message.
    assert mask_secrets("login with p@ss:w failed", also=("mysql://bob:p%40ss%3Aw@db/x",)) == "login with *** failed"
    # A quote in a password ends a URL in running text; given whole, SQLAlchemy's reading of it finds the password.
    assert mask_secrets("it's p'w0rd here", also=("mysql://bob:p'w0rd@db/x",)) == "it's *** here"


@pytest.mark.mysql
def test_a_refused_login_keeps_the_drivers_words_and_loses_only_the_password(mysql_url):
    """A real refusal by MariaDB, as SQLAlchemy raises it (its text names the user and host, and says whether a
    password was sent); masked with the URL in force, every word of it stays."""
    url = make_url(mysql_url).set(username="nobody_secret", password="Wr0ng-pass").render_as_string(False)
    engine = sqlalchemy.create_engine(url)
    with pytest.raises(sqlalchemy.exc.OperationalError) as raised:
        engine.connect()
    engine.dispose()
    text = f"{raised.value} connecting to {url}"
    assert "Wr0ng-pass" in text and "(using password: YES)" in text
    masked = mask_secrets(text, also=(url,))
    assert masked == text.replace("Wr0ng-pass", MASK)


def test_an_error_that_repeats_the_url_is_masked_where_it_repeats_it():
    """SQLAlchemy's own error for a URL it cannot read repeats the URL; the storage URL masks it there."""
    url = "postgresql://alice:s3cr%2Ft@db:port/x"
    with pytest.raises(ValueError) as raised:
        make_url(url).port  # noqa: B018 - a bad port is found when the URL is read
    text = f"storage {url!r}: {raised.value}"
    assert mask_secrets(text, also=(url,)) == text.replace("s3cr%2Ft", MASK)


def test_log_records_are_masked():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "connecting to %s", ("mysql://u:s3cret@h/d",), None)
    assert MaskingFormatter("%(name)s: %(message)s").format(record) == "x: connecting to mysql://u:***@h/d"
