"""Who may use the dashboard: a Host check against DNS rebinding, and a token for every change.

optuna-dashboard's API changes the study (notes, renaming and deleting studies, telling trials,
artifacts) and checks neither who asks nor under which name it was reached, so any page the user
opens could change it: directly (a cross-site request), or by pointing its own name at 127.0.0.1
(DNS rebinding) and then reading and writing as if it were the dashboard. ``DashboardGuard`` wraps
optuna-dashboard's WSGI app and answers first:

- a request whose Host header does not name the address the server was bound to gets 403 and a
  line of plain text (a rebinding page sends its own name as the Host);
- a change (any method but GET, HEAD and OPTIONS) needs the token made at each start, from the
  ``token`` query parameter or from the cookie (HttpOnly, SameSite=Strict) set on the answer to a
  request that carried it, so that the page's own ``fetch`` calls carry it; a change sent from a page
  of another origin (its Origin header) is refused even with the cookie, and without a token
  (read-only) every change is refused. These answers are JSON with a ``reason``, the form of
  optuna-dashboard's own errors, so that its page reports the change as failed.

The token is taken out of the query and the cookies before optuna-dashboard sees a request, so
optuna-dashboard can neither store nor log it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from types import TracebackType
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None] | None

#: Methods that only read; every other method changes something and needs the token.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The names a loopback bind also answers to (with its port).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
TOKEN_PARAMETER = "token"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether binding ``host`` listens on every interface (0.0.0.0, ::, or the empty string)."""
    if host == "":
        return True
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def new_token() -> str:
    """A fresh token for one start of the dashboard (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def cookie_name(port: int) -> str:
    """The token's cookie. Browsers share cookies between the ports of a host, so each port has its own."""
    return f"gapsearch-dashboard-{port}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_ip_literal(name: str) -> bool:
    inner = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ipaddress.ip_address(inner)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostCheck:
    """Which Host headers name this server.

    The bound host with or without the port; for a loopback bind also ``localhost``, ``127.0.0.1``
    and ``[::1]`` with the port; for a wildcard bind (0.0.0.0, ::) also this machine's names and any
    IP address with the port (an IP address in the Host header is the one the browser connected to,
    which DNS rebinding cannot fake: it needs a name).
    """

    address: str  # the bound host and port, as a URL writes them
    names: frozenset[str]
    port_for_any_ip: int | None = None

    @classmethod
    def for_bind(cls, host: str, port: int) -> HostCheck:
        bound = _bracketed(host.lower())
        names = {bound, f"{bound}:{port}"}
        aliases: set[str] = set()
        if is_loopback(host) or is_wildcard(host):
            aliases.update(LOOPBACK_NAMES)
        if is_wildcard(host):
            aliases.update(name.lower() for name in (socket.gethostname(), socket.getfqdn()))
        names.update(f"{alias}:{port}" for alias in aliases)
        return cls(f"{bound}:{port}", frozenset(names), port if is_wildcard(host) else None)

    def allows(self, host_header: str | None) -> bool:
        if not host_header:
            return False
        host_header = host_header.lower()
        if host_header in self.names:
            return True
        name, _, port = host_header.rpartition(":")
        return self.port_for_any_ip is not None and port == str(self.port_for_any_ip) and _is_ip_literal(name)


def _take_token(query: str) -> tuple[str | None, str]:
    """The ``token`` parameter of a query string (the last, if repeated) and the query without it."""
    token = None
    kept = []
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if unquote_plus(key) == TOKEN_PARAMETER:
            token = unquote_plus(value)
        elif part:
            kept.append(part)
    return token, "&".join(kept)


def _take_cookie(header: str, name: str) -> tuple[str | None, str]:
    """Cookie ``name``'s value in a Cookie header, and the header without it."""
    value = None
    kept = []
    for pair in header.split(";"):
        key, _, cookie = pair.strip().partition("=")
        if key == name:
            value = cookie
        elif pair.strip():
            kept.append(pair.strip())
    return value, "; ".join(kept)


def _refuse(start_response: StartResponse, body: bytes, content_type: str) -> Iterable[bytes]:
    start_response(
        "403 Forbidden",
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]


class DashboardGuard:
    """optuna-dashboard's WSGI app behind the Host check and the token (``token=None``: read-only)."""

    def __init__(self, app: WSGIApplication, hosts: HostCheck, *, token: str | None, cookie: str) -> None:
        self.app = app
        self.hosts = hosts
        self.token = token
        self.cookie = cookie

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self.hosts.allows(environ.get("HTTP_HOST")):
            message = (
                f"refused: the Host header does not name this dashboard ({self.hosts.address}); "
                "open the URL gapsearch dashboard printed\n"
            )
            return _refuse(start_response, message.encode(), "text/plain; charset=utf-8")
        from_query, environ["QUERY_STRING"] = _take_token(environ.get("QUERY_STRING", ""))
        from_cookie, environ["HTTP_COOKIE"] = _take_cookie(environ.get("HTTP_COOKIE", ""), self.cookie)
        if not environ["HTTP_COOKIE"]:
            del environ["HTTP_COOKIE"]
        query_is_valid = self._is_token(from_query)
        if environ.get("REQUEST_METHOD", "GET").upper() not in READ_METHODS:
            reason = self._refusal(environ, query_is_valid or self._is_token(from_cookie))
            if reason is not None:
                body = json.dumps({"reason": reason}).encode()
                return _refuse(start_response, body, "application/json")
        if not query_is_valid:
            return self.app(environ, start_response)

        def start_with_cookie(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo = None
        ) -> Callable[[bytes], object]:
            cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            # The address bar holds the token: send it to no one in a Referer.
            extra = [("Set-Cookie", cookie), ("Referrer-Policy", "no-referrer")]
            return start_response(status, [*headers, *extra], exc_info)

        return self.app(environ, start_with_cookie)

    def _is_token(self, given: str | None) -> bool:
        if self.token is None or given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    def _refusal(self, environ: WSGIEnvironment, has_token: bool) -> str | None:
        """Why a change is refused, or None when it may go on."""
        if self.token is None:
            return "this dashboard is read-only (gapsearch dashboard --read-only): it changes nothing"
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin.lower() != f"http://{environ['HTTP_HOST'].lower()}":
            return "refused: a change sent from a page of another origin"
        if not has_token:
            return (
                "a change needs this dashboard's token: open the URL gapsearch dashboard printed "
                "(it ends with ?token=...; the token is new at each start)"
            )
        return None
