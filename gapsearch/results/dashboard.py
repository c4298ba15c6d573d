"""Serving optuna-dashboard on a study database, with gapsearch's artifact store.

optuna-dashboard's WSGI app runs on the standard library's threaded WSGI server, behind
``dashboard_guard`` (the Host check, and the token each change needs, printed in the URL, or no
change at all with ``read_only``). It binds to loopback by default and warns when it is bound
elsewhere: there anyone who can reach it can read the study.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gapsearch import optuna_compat
from gapsearch.errors import UserError
from gapsearch.masking import mask_url
from gapsearch.results.dashboard_guard import DashboardGuard, HostCheck, cookie_name, is_loopback, new_token
from gapsearch.spec.artifacts import DEFAULT_ARTIFACT_STORE, ArtifactsSpec

if TYPE_CHECKING:
    from gapsearch.optuna_compat import ArtifactStore
    from gapsearch.spec.study import StudySpec


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No line per request: the terminal shows what the user needs, not the page's polling."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        pass


def exposure_warning(host: str, port: int, *, read_only: bool = False) -> str | None:
    """The warning printed when the dashboard is reachable from other machines; None on loopback."""
    if is_loopback(host):
        return None
    who_changes = (
        "nobody can change it (--read-only)"
        if read_only
        else "changes need only the token in its URL, which travels unencrypted"
    )
    return (
        f"warning: the dashboard is bound to {host}:{port}: anyone who can reach this address can read the study, "
        f"and {who_changes}. Bind to 127.0.0.1 and use an SSH tunnel (ssh -L 8080:127.0.0.1:8080 HOST) "
        "to keep it to yourself."
    )


@dataclass(frozen=True)
class DashboardTarget:
    """What the dashboard serves: the database, the artifact store (if any), the study to open first."""

    storage_url: str
    artifacts: ArtifactsSpec | None
    study_name: str | None = None


def resolve_artifacts(option: str | None, spec_artifacts: ArtifactsSpec | None) -> ArtifactsSpec | None:
    """The artifact store to serve: ``--artifacts``, else the study file's, else the default folder if present."""
    if option is not None:
        try:
            return ArtifactsSpec(store=option)
        except ValueError as error:
            reason = str(error).splitlines()[-1].split(", input_value")[0].removeprefix("  Value error, ")
            raise UserError(f"--artifacts: {reason}") from None
    if spec_artifacts is not None:
        return spec_artifacts
    from pathlib import Path

    return ArtifactsSpec() if Path(DEFAULT_ARTIFACT_STORE).is_dir() else None


def dashboard_target(spec: StudySpec | None, storage: str | None, artifacts: str | None) -> DashboardTarget:
    """What ``gapsearch dashboard`` serves: a study file's database and store, or a ``--storage`` URL alone."""
    from gapsearch.storage.database import study_storage_url

    if spec is None and storage is None:
        raise UserError("give a study file or --storage URL; for example: gapsearch dashboard study.yaml")
    return DashboardTarget(
        storage_url=study_storage_url(storage, spec),
        artifacts=resolve_artifacts(artifacts, spec.artifacts if spec is not None else None),
        study_name=spec.name if spec is not None else None,
    )


def serve_dashboard(
    target: DashboardTarget,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    read_only: bool = False,
    echo: Callable[[str], None] = print,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve optuna-dashboard until interrupted (Ctrl-C ends it quietly).

    ``port=0`` picks a free port. Only requests whose Host header names the bound address are
    answered; a change needs the token made now, which only the URL shown holds (``read_only``:
    every change is refused, and the URL has no token). ``echo`` gets the lines for the person at
    the terminal; ``ready`` (if given) that URL once the dashboard accepts connections.

    Raises:
        StorageError: the database or the study does not exist (nothing is created).
        UserError: the port is in use or the host cannot be bound.
    """
    from gapsearch.search.artifacts import open_artifact_store
    from gapsearch.storage.database import load_existing_study, open_storage

    storage = open_storage(target.storage_url, create=False)  # before optuna-dashboard's seconds-long import
    study_id = None
    if target.study_name is not None:
        study_id = optuna_compat.study_id(load_existing_study(target.storage_url, target.study_name))
    store: ArtifactStore | None = None
    if target.artifacts is not None:
        store = open_artifact_store(target.artifacts, create=False)
    import optuna_dashboard

    app = optuna_dashboard.wsgi(storage, artifact_store=store)
    try:
        server = make_server(host, port, app, server_class=_ThreadedServer, handler_class=_QuietHandler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UserError(
                f"--port: port {port} on {host} is in use; pass another --port (0 picks a free one)"
            ) from None
        if isinstance(error, socket.gaierror) or error.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            raise UserError(f"--host: cannot listen on {host}:{port}: {error.strerror}") from None
        raise
    bound_port = server.server_address[1]
    token = None if read_only else new_token()
    server.set_app(
        DashboardGuard(app, HostCheck.for_bind(host, bound_port), token=token, cookie=cookie_name(bound_port))
    )
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}/dashboard" + (f"/studies/{study_id}" if study_id is not None else "")
    if token is not None:
        url += f"?token={token}"  # the one place the token is shown: it is the user's key to changes
    warning = exposure_warning(host, bound_port, read_only=read_only)
    if warning:
        echo(warning)
    echo(f"optuna-dashboard on {mask_url(target.storage_url)}")
    echo(
        "artifacts in " + target.artifacts.store
        if target.artifacts is not None
        else "no artifact store (pass --artifacts or a study file to show trial artifacts)"
    )
    if read_only:
        echo("read-only: every change (notes, deleting studies) is refused")
    echo(f"open {url}  (Ctrl-C stops it)")
    if ready is not None:
        ready(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
