"""Credentials out of everything gapsearch stores, shows or logs: one function, :func:`mask_secrets`.

Every writer passes its text through it: the study file kept with the study and in its
dashboard note, storage URLs in messages and reports, error lines, log records, warnings, and
the lines worker processes write. It masks three forms of secret, wherever they appear
(comments included), and nothing around them:

- the password of a URL (``postgresql://user:PASSWORD@host/db``): the text between the user's
  ``:`` and the ``@`` before the host, whatever it holds (``@``, ``:``, ``/``, ``%40``); the
  user, host, port, database, path and query stay as written, and a URL without a password
  (a SQLite path holding ``@`` or ``:`` among them) is left alone;
- the value of a key that names a secret, outside a URL or in its query (``password: ...``,
  ``?password=...``, ``aws_secret_access_key = ...``, ``token: ...``), but not MySQL's
  ``(using password: YES)``, which says whether one was sent;
- any other occurrence of a secret found in one of those forms, in the text itself or in
  ``also`` (for example the storage URL in force, given by ``--storage`` or the environment),
  so that a password repeated in a comment or in a driver's error is masked too.

SQLAlchemy's ``URL.render_as_string(hide_password=True)`` is not used to show a URL: it writes the
rest of the URL again (the ``@`` and ``:`` of a SQLite path escaped, the query reordered), so the
URL shown would not be the one the user wrote. ``make_url`` finds the password of a whole URL given
in ``also``, as SQLAlchemy will send it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"

# A URL in running text: a scheme (which may name a SQLAlchemy driver with "_" or "+": postgresql+psycopg_async),
# "://", and everything up to a blank, a quote or an angle bracket.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9_+.\-]*://[^\s'\"<>`]*")
# The password of a URL (from just after "://"): a user without ":", "/", "?", "#" or "@", then ":", then the
# shortest text up to an "@" that a host follows (a name, or an IPv6 address in brackets), with an optional port
# (a bad one too: its URL is shown in the error), and then the path, the query, the fragment or the end. So an "@"
# or ":" left unescaped in the password stays in it.
_URL_PASSWORD = re.compile(
    r"(?P<keep>[^:/?#@]*:)(?P<secret>.*?)(?=@(?:\[[0-9A-Fa-f:.%a-z]*\]|[^:/?#@\[\]]*)(?::[^/?#@]*)?(?:[/?#]|$))"
)
# NAME: value / NAME=value, where NAME ends in a word that names a secret (password, aws_secret_access_key, ...),
# except MySQL's "(using password: YES)", which tells whether a password was sent.
_KEY_VALUE = re.compile(
    r"(?P<keep>(?<![A-Za-z0-9])(?<!using )[A-Za-z0-9_.\-]*?(?i:password|passwd|pwd|secret|token|api_?key|access_?key)"
    r"[\"']?\s*[:=]\s*[\"']?)(?P<secret>[^\s\"'&;,#]+)"
)
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_SHORT = 4  # a secret shorter than this is masked elsewhere only as a whole word, not inside other words


def _value(secret: str) -> str:
    """A key's value without the brackets that close around it: ``hunter22)`` in ``(password: hunter22)``."""
    while secret and secret[-1] in _CLOSERS and secret.count(_CLOSERS[secret[-1]]) < secret.count(secret[-1]):
        secret = secret[:-1]
    return secret


def _mask_values(text: str, found: set[str]) -> str:
    """``text`` with the value of every key that names a secret masked; the values go into ``found``."""

    def replace(match: re.Match[str]) -> str:
        secret = _value(match.group("secret"))
        if secret and secret != MASK:
            found.update({secret, unquote(secret)})
        return match.group("keep") + MASK + match.group("secret")[len(secret) :]

    return _KEY_VALUE.sub(replace, text)


def _mask_url(url: str, found: set[str]) -> str:
    """One URL with its password and the secret values of its query masked; the secrets go into ``found``."""
    scheme, rest = url.split("://", 1)
    match = _URL_PASSWORD.match(rest)
    if match is not None and match.group("secret"):
        found.update({match.group("secret"), unquote(match.group("secret"))})
        rest = match.group("keep") + MASK + rest[match.end() :]
    path, mark, query = rest.partition("?")
    return f"{scheme}://{path}{mark}{_mask_values(query, found)}"


def _masked(text: str) -> tuple[str, set[str]]:
    """``text`` with the passwords of its URLs and its secret values masked, and the secrets found."""
    found: set[str] = set()
    parts, end = [], 0
    for match in _URL.finditer(text):
        parts.append(_mask_values(text[end : match.start()], found))
        parts.append(_mask_url(match.group(), found))
        end = match.end()
    parts.append(_mask_values(text[end:], found))
    found.discard(MASK)
    found.discard("")
    return "".join(parts), found


def _url_password(text: str) -> str | None:
    """The password SQLAlchemy sends for ``text`` when it is one whole database URL (None: it is not one)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(text.strip()).password  # type: ignore[return-value]
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: only the forms above apply to it
        return None


def mask_secrets(text: str, *, also: Iterable[str] = ()) -> str:
    """``text`` with every password, secret value and repeat of one replaced by ``***`` (see the module).

    ``also``: other texts (such as the storage URL in force) whose secrets are masked in ``text`` too.
    """
    masked, secrets = _masked(text)
    for other in also:
        secrets |= _masked(other)[1]
        password = _url_password(other) if "://" in other else None
        if password:
            secrets.add(password)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _SHORT:
            masked = masked.replace(secret, MASK)
        else:
            masked = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", MASK, masked)
    return masked


def one_line(error: BaseException) -> str:
    """An error's whole message on one line (its lines joined, never cut), secrets masked; its type's name when
    it has no message."""
    return mask_secrets(" ".join(str(error).split())) or type(error).__name__


def mask_url(url: str) -> str:
    """A storage URL as it may be shown: its password replaced by ``***``; never show a URL without this."""
    return mask_secrets(url)


class MaskingFormatter(logging.Formatter):
    """A log formatter whose records (messages, arguments, tracebacks) pass through :func:`mask_secrets`."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))
