"""Credentials out of everything gapsearch stores, shows or logs: one function, :func:`mask_secrets`.

Every writer passes its text through it: the study file kept with the study and in its
dashboard note, storage URLs in messages and reports, error lines, log records, and the
lines worker processes write. It masks three forms of secret, wherever they appear
(comments included):

- the password of a URL (``postgresql://user:PASSWORD@host/db``);
- the value of a key that names a secret (``password: ...``, ``?password=...``,
  ``aws_secret_access_key = ...``, ``token: ...``);
- any other occurrence of a secret found in one of those forms, in the text itself or in
  ``also`` (for example the storage URL in force, given by ``--storage`` or the environment),
  so that a password repeated in a comment is masked too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"

# scheme://user:PASSWORD@host: the password runs to the last "@" before the host's path, query or fragment.
# A scheme may name a SQLAlchemy driver with "_" in it (postgresql+psycopg_async://, oracle+cx_oracle://).
_URL_PASSWORD = re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9_+.\-]*://[^\s:/?#@]*:)(?P<secret>[^\s/?#]*)(?=@)")
# NAME: value / NAME=value, where NAME ends in a word that names a secret (password, aws_secret_access_key, ...).
_KEY_VALUE = re.compile(
    r"(?P<keep>(?<![A-Za-z0-9])[A-Za-z0-9_.\-]*?(?i:password|passwd|pwd|secret|token|api_?key|access_?key)"
    r"[\"']?\s*[:=]\s*[\"']?)(?P<secret>[^\s\"'&;,#]+)"
)
_PATTERNS = (_URL_PASSWORD, _KEY_VALUE)
_SHORT = 4  # a secret shorter than this is masked elsewhere only as a whole word, not inside other words


def _found_secrets(text: str) -> set[str]:
    found = set()
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            secret = match.group("secret")
            if secret and secret != MASK:
                found.update({secret, unquote(secret)})
    return found


def mask_secrets(text: str, *, also: Iterable[str] = ()) -> str:
    """``text`` with every password, secret value and repeat of one replaced by ``***`` (see the module).

    ``also``: other texts (such as the storage URL in force) whose secrets are masked in ``text`` too.
    """
    secrets = _found_secrets(text)
    for other in also:
        secrets |= _found_secrets(other)
    masked = text
    for pattern in _PATTERNS:
        masked = pattern.sub(lambda match: match.group("keep") + (MASK if match.group("secret") else ""), masked)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _SHORT:
            masked = masked.replace(secret, MASK)
        else:
            masked = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", MASK, masked)
    return masked


def mask_url(url: str) -> str:
    """A storage URL as it may be shown: its password replaced by ``***``; never show a URL without this."""
    return mask_secrets(url)


class MaskingFormatter(logging.Formatter):
    """A log formatter whose records (messages, arguments, tracebacks) pass through :func:`mask_secrets`."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))
