"""The page's defences beyond the session and CSRF token (test_page.py): the Host check of a
keyless loopback server (DNS rebinding), the Origin of page changes, the coder's name kept
across a cross-site link, and the session table's limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from models.testing import HashingEncoder
from service.api.main import create_app
from service.app.keys import create_key
from service.app.page_sessions import PageSessions, SessionLimits
from service.settings import Settings
from service.store.database import Store
from service.web.security import CODER_COOKIE, COOKIE
from tests.page_support import csrf_of, page_client, projects_with_interview, sign_in
from tests.test_service_support import service_settings


def _client_for(settings: Settings, base_url: str) -> TestClient:
    return TestClient(create_app(settings, encoder=HashingEncoder()), base_url=base_url)


@pytest.mark.parametrize("path", ["/page/", "/v1/projects", "/healthz"])
def test_a_keyless_server_refuses_other_host_names(tmp_path: Path, path: str) -> None:
    """A page of attacker.example, its name rebound to 127.0.0.1, reaches this server with
    its own Host: refused before a session is given or a project listed."""
    settings = service_settings(tmp_path / "data")
    with _client_for(settings, "http://attacker.example:8000") as client:
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "attacker.example" in refused.json()["detail"]
        assert "INTERCODER_ALLOWED_HOSTS" in refused.json()["detail"]
        assert "set-cookie" not in refused.headers


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_a_keyless_server_answers_its_loopback_names(tmp_path: Path, base_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data")  # the defaults, not the tests' settings
    with _client_for(settings, base_url) as client:
        assert client.get("/page/").status_code == 200


def test_allowed_hosts_and_a_server_with_keys(tmp_path: Path) -> None:
    named = service_settings(tmp_path / "data", allowed_hosts=["coding-box"])
    with _client_for(named, "http://coding-box:8000") as client:
        assert client.get("/page/", follow_redirects=False).status_code == 303
    # with keys, a name is no credential: the key is (a server on 0.0.0.0 behind any name)
    store = Store(tmp_path / "data" / "intercoder.sqlite3")
    create_key(store, None, "admin")
    store.close()
    keyed = service_settings(tmp_path / "data", require_api_keys=True)
    with _client_for(keyed, "http://intercoder.example") as client:
        assert client.get("/page/", follow_redirects=False).status_code == 303


def test_a_page_change_from_another_origin_is_refused(tmp_path: Path) -> None:
    with page_client(tmp_path / "data") as client:
        csrf = projects_with_interview(client, "p1")
        decision = "/page/projects/p1/transcripts/interview/sentences/1/decision"
        # no-referrer would make a browser send "Origin: null" on the page's own forms
        assert client.get("/page/").headers["referrer-policy"] == "same-origin"
        for origin, status in [("http://attacker.example", 403), ("http://127.0.0.1", 303)]:
            answer = client.post(
                decision,
                data={"action": "accept", "csrf_token": csrf},
                headers={"Origin": origin},
                follow_redirects=False,
            )
            assert answer.status_code == status, (origin, answer.text)
        signed = client.post(
            "/page/sign-in", data={"key": ""}, headers={"Origin": "http://attacker.example"}
        )
        assert signed.status_code == 403, signed.text


def test_a_link_from_another_site_keeps_the_coders_name(tmp_path: Path) -> None:
    """A cross-site link carries no SameSite=Strict session cookie: the new session takes the
    coder's name from its own Lax cookie, and still needs its own CSRF token."""
    with page_client(tmp_path / "data") as client:
        home = client.get("/page/")
        renamed = client.post(
            "/page/coder",
            data={"coder": "Ana Lima", "csrf_token": csrf_of(home.text)},
            follow_redirects=False,
        )
        assert renamed.status_code == 303, renamed.text
        cookie = next(
            c for c in renamed.headers.get_list("set-cookie") if c.startswith(CODER_COOKIE)
        )
        assert "samesite=lax" in cookie.lower()
        old_session = client.cookies[COOKIE]
        del client.cookies[COOKIE]  # what the browser leaves out on a cross-site link
        again = client.get("/page/")
        assert again.status_code == 200
        assert client.cookies[COOKIE] != old_session
        assert "coding as <strong>Ana Lima</strong>" in again.text
        stale = client.post("/page/coder", data={"coder": "x", "csrf_token": csrf_of(home.text)})
        assert stale.status_code == 403


def test_the_session_table_is_bounded_and_sessions_end(tmp_path: Path) -> None:
    store = Store(tmp_path / "intercoder.sqlite3")
    settings = service_settings(tmp_path)
    now = [0.0]
    limits = SessionLimits(idle_seconds=10, lifetime_seconds=20, max_sessions=3)
    sessions = PageSessions(limits, clock=lambda: now[0])
    opened = [sessions.open(store, settings, None, None)[0] for _ in range(3)]
    now[0] = 1.0
    assert sessions.find(store, opened[0]) is not None  # the first is now the latest used
    fourth, _ = sessions.open(store, settings, None, None)
    assert sessions.find(store, opened[1]) is None  # the least recently used went
    assert all(sessions.find(store, s) is not None for s in (opened[0], opened[2], fourth))
    for step in range(1, 4):  # used every 8 s: never idle, yet over its lifetime at 20 s
        now[0] = 1.0 + 8 * step
        assert (sessions.find(store, fourth) is None) == (step == 3)
    store.close()


def test_signing_in_ends_the_previous_session_and_pages_are_not_cached(tmp_path: Path) -> None:
    with page_client(tmp_path / "data") as client:
        home = client.get("/page/")
        assert home.headers["cache-control"] == "no-store"
        assert "cache-control" not in client.get("/page/static/app.js").headers
        before = client.cookies[COOKIE]
        assert sign_in(client, "").status_code == 303
        assert client.cookies[COOKIE] != before
        sessions = client.app.state.page_sessions  # type: ignore[attr-defined]
        store = client.app.state.service.store  # type: ignore[attr-defined]
        assert sessions.find(store, before) is None
        assert sessions.find(store, client.cookies[COOKIE]) is not None


@pytest.mark.parametrize(
    ("chosen", "base_url", "secure"),
    [("always", "http://127.0.0.1", True), ("never", "https://127.0.0.1", False)],
)
def test_the_cookie_secure_setting(
    tmp_path: Path, chosen: str, base_url: str, secure: bool
) -> None:
    settings = service_settings(tmp_path / "data", cookie_secure=chosen)
    with _client_for(settings, base_url) as client:
        cookie = client.get("/page/", follow_redirects=False).headers["set-cookie"].lower()
        assert ("; secure" in cookie) == secure


def test_a_websocket_under_another_host_name_is_closed(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path / "data"), encoder=HashingEncoder())

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("open")
        await websocket.close()

    with TestClient(app, base_url="http://127.0.0.1") as client:
        with client.websocket_connect("/echo") as socket:
            assert socket.receive_text() == "open"
        rebound = {"host": "attacker.example"}
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/echo", headers=rebound),
        ):
            pass
        assert closed.value.code == 1008
