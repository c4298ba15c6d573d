"""mask_secrets: every form of secret gapsearch may meet in a study file, a URL, a message or a log line."""

from __future__ import annotations

import logging

import pytest

from gapsearch.masking import MaskingFormatter, mask_secrets, mask_url

CASES = {
    "URL password": ("postgresql://alice:s3cret@db:5432/studies", "postgresql://alice:***@db:5432/studies"),
    "password with @ and %": ("mysql+pymysql://bob:p%40ss@w0rd@db/x", "mysql+pymysql://bob:***@db/x"),
    "a driver with an underscore": (
        "postgresql+psycopg_async://alice:s3cret@db/x",
        "postgresql+psycopg_async://alice:***@db/x",
    ),
    "no password": ("postgresql://alice@db/studies sqlite:///gapsearch.db", None),
    "a port is not a password": ("postgresql://db:5432/studies", None),
    "query parameter": (
        "postgresql://db/x?sslmode=require&password=hunter22",
        "postgresql://db/x?sslmode=require&password=***",
    ),
    "libpq keywords": ("host=db password=hunter22 dbname=x", "host=db password=*** dbname=x"),
    "YAML keys": (
        'aws_secret_access_key: "AKIA1234"\napi_key: k-99\nmax_tokens: 300',
        'aws_secret_access_key: "***"\napi_key: ***\nmax_tokens: 300',
    ),
    "repeated in prose": (
        "storage: postgresql://a:Hunter-22@db/x  # the password is Hunter-22.",
        "storage: postgresql://a:***@db/x  # the password is ***.",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mask_secrets(case):
    text, expected = CASES[case]
    assert mask_secrets(text) == (text if expected is None else expected)


def test_secrets_of_other_texts_are_masked_too():
    url = "postgresql://alice:from-the-env@db/studies"
    assert mask_secrets("# ask for from-the-env", also=(url,)) == "# ask for ***"
    assert mask_secrets("a pwd", also=("postgresql://u:pwd@h/d",)) == "a ***"  # short: whole words only
    assert mask_secrets("the pwdx", also=("postgresql://u:pwd@h/d",)) == "the pwdx"
    assert mask_url(url) == "postgresql://alice:***@db/studies"


def test_log_records_are_masked():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "connecting to %s", ("mysql://u:s3cret@h/d",), None)
    assert MaskingFormatter("%(name)s: %(message)s").format(record) == "x: connecting to mysql://u:***@h/d"
