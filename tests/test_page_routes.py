"""Every route of the service outside the OpenAPI document (the page's) is in this table, so a
new page route cannot escape the page's checks the way the API's routes are held by
tests/reliability/test_auth_table.py: without a session a page answers nothing but the way to
sign in, a change without the CSRF token is refused, and another project's key opens nothing."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from models.testing import HashingEncoder
from service.api.main import create_app
from service.app.keys import create_key
from service.store.database import Store
from tests.page_support import csrf_of
from tests.test_service_support import SMALL_CODEBOOK, service_settings

OPEN = {
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/page/sign-in"),
}
"""Routes anyone may open: the way in, and the API's documentation (the schema is public)."""
SIGN_IN = ("POST", "/page/sign-in")
"""Needs the one-time token of the sign-in form instead of a session (tested in test_page)."""
PATH_VALUES = {"project_id": "p2", "transcript_id": "t", "index": "0"}


def _page_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every method and path the app serves outside its OpenAPI document (included routers
    flattened the way FastAPI itself walks them)."""
    routes = [
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and not context.original_route.include_in_schema
        for method in sorted(context.methods or ())
    ]
    assert routes, "no page route found: the table would hold nothing"
    return routes


def _filled(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda name: PATH_VALUES[name.group(1)], path)


def test_every_page_route_needs_a_session_the_token_and_the_projects_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "intercoder.sqlite3")
    admin_key, _ = create_key(store, None, "admin")
    app = create_app(service_settings(data, require_api_keys=True), encoder=HashingEncoder())
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for project_id in ("p1", "p2"):
            created = client.post(
                "/v1/projects",
                json={"id": project_id, "codebook": SMALL_CODEBOOK},
                headers={"X-API-Key": admin_key},
            )
            assert created.status_code == 201, created.text
        project_key, _ = create_key(store, "p1", "ana")
        store.close()
        routes = _page_routes(app)
        guarded = [route for route in routes if route not in OPEN and route != SIGN_IN]
        assert len(guarded) >= 15, guarded
        unexpected: list[str] = []
        for method, path in guarded:
            answer = client.request(method, _filled(path), follow_redirects=False)
            signs_in = answer.status_code == 303 and answer.headers["location"].startswith(
                "/page/sign-in"
            )
            if not (signs_in if method == "GET" else answer.status_code == 401):
                unexpected.append(f"no session: {method} {path} -> {answer.status_code}")
        form = client.get("/page/sign-in")
        token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
        assert token is not None
        signed = client.post(
            "/page/sign-in",
            data={"key": project_key, "sign_in_token": token.group(1)},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        csrf = csrf_of(client.get("/page/").text)
        for method, path in guarded:
            if method == "POST":
                answer = client.post(_filled(path), data={}, follow_redirects=False)
                if answer.status_code != 403:
                    unexpected.append(f"no CSRF token: {method} {path} -> {answer.status_code}")
            if "{project_id}" in path:
                headers = {"X-CSRF-Token": csrf} if method == "POST" else {}
                answer = client.request(
                    method, _filled(path), headers=headers, follow_redirects=False
                )
                if answer.status_code != 403:
                    unexpected.append(f"project p1's key: {method} {path} -> {answer.status_code}")
        assert not unexpected, unexpected
