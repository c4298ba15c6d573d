"""The dashboard answers only its own address, and changes only for the holder of the printed token.

Each test serves a database of two studies (made with Optuna's API) with the real ``gapsearch
dashboard``, sends real HTTP requests with http.client (the Host, Origin and Cookie headers as a
browser or an attacker's page would send them), and reads the database back with Optuna's API.
Every change optuna-dashboard offers is taken from its own routes, so a route a release adds is
checked too.
"""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import optuna
import optuna_dashboard
import pytest

from gapsearch.results.dashboard_guard import READ_METHODS, HostCheck
from tests.test_dashboard import Dashboard, start_dashboard, stop

NO_TOKEN = (
    "a change needs this dashboard's token: open the URL gapsearch dashboard printed "
    "(it ends with ?token=...; the token is new at each start)"
)
READ_ONLY = "this dashboard is read-only (gapsearch dashboard --read-only): it changes nothing"
OTHER_ORIGIN = "refused: a change sent from a page of another origin"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Two studies: ``kept`` with a finished trial and ``doomed``, for a test to try to delete."""
    path = tmp_path / "studies.db"
    kept = optuna.create_study(study_name="kept", storage=f"sqlite:///{path}")
    kept.enqueue_trial({"x": 1.0})
    kept.optimize(lambda trial: trial.suggest_float("x", 0, 2), n_trials=1)
    optuna.create_study(study_name="doomed", storage=f"sqlite:///{path}")
    return path


def serve(database: Path, *options: str) -> Dashboard:
    return start_dashboard("--storage", f"sqlite:///{database.name}", "--port", "0", *options, cwd=database.parent)


def send(
    served: Dashboard, method: str, path: str, *, host: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request to the served dashboard, with ``host`` as its Host header (default: the URL's)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        body = b"{}" if method not in READ_METHODS else None
        connection.request(
            method, path, body=body, headers={"Host": host or f"127.0.0.1:{served.port}", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def study_ids(served: Dashboard) -> dict[str, int]:
    return {s["study_name"]: s["study_id"] for s in served.json("/api/studies")["study_summaries"]}


def stored(database: Path) -> dict[str, object]:
    """Everything a change could touch, read with Optuna's API: each study's attributes (notes too) and trials."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{database}")
    studies = {}
    for name in sorted(optuna.get_all_study_names(storage)):
        study_id = storage.get_study_id_from_name(name)
        trials = [repr(t) for t in storage.get_all_trials(study_id)]
        studies[name] = (storage.get_study_user_attrs(study_id), storage.get_study_system_attrs(study_id), trials)
    return studies


def every_change(ids: dict[str, int]) -> list[tuple[str, str]]:
    """Each non-reading route of the installed optuna-dashboard, its placeholders filled with the doomed study."""
    routes = optuna_dashboard.wsgi(optuna.storages.InMemoryStorage()).routes
    changes = [
        (r.method, re.sub(r"<[^>]*>", str(ids["doomed"]), r.rule)) for r in routes if r.method not in READ_METHODS
    ]
    assert ("DELETE", f"/api/studies/{ids['doomed']}") in changes and len(changes) >= 20
    return changes


def test_a_request_naming_another_host_is_refused_before_the_dashboard_sees_it(database):
    served = serve(database)
    try:
        doomed = study_ids(served)["doomed"]
        other_port = served.port + 1 if served.port < 65535 else served.port - 1
        refused = ("evil.example", f"evil.example:{served.port}", f"localhost:{other_port}", f"10.0.0.1:{served.port}")
        for host in refused:
            status, headers, body = send(served, "GET", "/api/studies", host=host)
            assert (status, headers["Content-Type"], body.decode()) == (
                403,
                "text/plain; charset=utf-8",
                f"refused: the Host header does not name this dashboard (127.0.0.1:{served.port}); "
                "open the URL gapsearch dashboard printed\n",
            ), host
        # A page that rebinds its name to 127.0.0.1 cannot change the study even with the token.
        status, _, _ = send(served, "DELETE", f"/api/studies/{doomed}?token={served.token}", host="evil.example")
        assert status == 403
        assert "doomed" in optuna.get_all_study_names(f"sqlite:///{database}")
        for host in (f"127.0.0.1:{served.port}", "127.0.0.1", f"localhost:{served.port}", f"[::1]:{served.port}"):
            status, _, body = send(served, "GET", "/api/studies", host=host)
            assert (status, json.loads(body)["study_summaries"][0]["study_name"]) == (200, "kept"), host
    finally:
        stop(served)


def test_a_change_without_the_token_is_refused_and_changes_nothing(database):
    served = serve(database)
    try:
        ids = study_ids(served)
        before = stored(database)
        origin = {"Origin": f"http://127.0.0.1:{served.port}"}
        for method, path in every_change(ids):
            for headers in ({}, origin, {"Cookie": f"gapsearch-dashboard-{served.port}=wrong"}):
                status, _, body = send(served, method, path, headers=headers)
                assert (status, json.loads(body)) == (403, {"reason": NO_TOKEN}), (method, path, headers)
            status, _, body = send(served, method, f"{path}?token=wrong")
            assert (status, json.loads(body)) == (403, {"reason": NO_TOKEN}), (method, path)
            # The cookie is sent by any page of the same site (another port of 127.0.0.1): its Origin gives it away.
            cookie = {"Cookie": f"gapsearch-dashboard-{served.port}={served.token}"}
            status, _, body = send(served, method, path, headers={**cookie, "Origin": "http://127.0.0.1:1"})
            assert (status, json.loads(body)) == (403, {"reason": OTHER_ORIGIN}), (method, path)
        assert stored(database) == before
        assert "doomed" in optuna.get_all_study_names(f"sqlite:///{database}")
    finally:
        stop(served)


def test_the_printed_token_allows_changes_from_the_query_and_from_the_cookie_it_sets(database):
    served = serve(database)
    ids = study_ids(served)
    try:
        # Opening the printed URL sets the cookie the page's own fetch calls then carry.
        status, headers, _ = send(served, "GET", served.page()[len(served.base) :])
        assert status == 200
        assert headers.get_all("Set-Cookie") == [
            f"gapsearch-dashboard-{served.port}={served.token}; Path=/; HttpOnly; SameSite=Strict"
        ]
        assert headers["Referrer-Policy"] == "no-referrer"
        status, headers, _ = send(served, "GET", "/api/studies")
        assert (status, headers.get_all("Set-Cookie")) == (200, None)
        as_the_page = {
            "Cookie": f"other=1; gapsearch-dashboard-{served.port}={served.token}",
            "Origin": f"http://127.0.0.1:{served.port}",
            "Content-Type": "application/json",
        }
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        note = json.dumps({"version": 1, "body": "edited in the dashboard"})
        connection.request("PUT", f"/api/studies/{ids['kept']}/note", body=note, headers=as_the_page)
        assert connection.getresponse().status == 204
        connection.close()
        kept = optuna.load_study(study_name="kept", storage=f"sqlite:///{database}")
        assert optuna_dashboard.get_note(kept) == "edited in the dashboard"
        status, _, _ = send(served, "DELETE", f"/api/studies/{ids['doomed']}?token={served.token}")
        assert status == 204
        assert optuna.get_all_study_names(f"sqlite:///{database}") == ["kept"]
    finally:
        stop(served)
    assert served.process.stdout is not None
    output = served.lines + served.process.stdout.read().splitlines()
    assert [line for line in output if served.token in line] == [f"open {served.shown}  (Ctrl-C stops it)"]
    assert served.token.encode() not in database.read_bytes()


def test_read_only_refuses_every_change_and_prints_no_token(database):
    served = serve(database, "--read-only")
    try:
        assert served.token is None
        assert served.lines == [
            "optuna-dashboard on sqlite:///studies.db",
            "no artifact store (pass --artifacts or a study file to show trial artifacts)",
            "read-only: every change (notes, deleting studies) is refused",
            f"open http://127.0.0.1:{served.port}/dashboard  (Ctrl-C stops it)",
        ]
        ids = study_ids(served)
        before = stored(database)
        for method, path in every_change(ids):
            for suffix in ("", "?token=anything"):
                status, _, body = send(served, method, path + suffix)
                assert (status, json.loads(body)) == (403, {"reason": READ_ONLY}), (method, path)
        assert stored(database) == before
        status, headers, _ = send(served, "GET", "/dashboard?token=anything")
        assert (status, headers.get_all("Set-Cookie")) == (200, None)
    finally:
        stop(served)


@pytest.mark.parametrize(
    ("bound", "allowed", "refused"),
    [
        ("127.0.0.1", ["127.0.0.1:8080", "127.0.0.1", "LOCALHOST:8080", "[::1]:8080"], ["localhost", "a.example:8080"]),
        ("localhost", ["localhost", "localhost:8080", "127.0.0.1:8080"], ["127.0.0.2:8080", "[::1]"]),
        ("::1", ["[::1]:8080", "[::1]", "localhost:8080"], ["::1", "[::1]:8081"]),
        ("192.0.2.5", ["192.0.2.5:8080", "192.0.2.5"], ["localhost:8080", "198.51.100.1:8080", "a.example:8080"]),
        ("0.0.0.0", ["198.51.100.1:8080", "[2001:db8::1]:8080", "localhost:8080"], ["198.51.100.1", "a.example:8080"]),
        ("dash.example", ["dash.example:8080", "DASH.example"], ["127.0.0.1:8080", "other.example:8080"]),
    ],
)
def test_the_host_check_accepts_the_bound_address_and_its_loopback_names(bound, allowed, refused):
    check = HostCheck.for_bind(bound, 8080)
    assert [host for host in allowed if not check.allows(host)] == []
    assert [host for host in refused if check.allows(host)] == []
    assert not check.allows(None) and not check.allows("")
