"""Authorization as a table generated from the OpenAPI document, so no route escapes it: every
operation x every kind of credentials gets the status the route's kind of access allows.

Kinds of access, from the schema: an operation without ``security`` is public (liveness,
readiness); one under ``/v1/projects/{project_id}`` opens with a key for that project or an
admin key; the others are named in :data:`KEY_WIDE` (and a new one that is not fails the
test). Run with keys required; the requests carry no body, because credentials are checked
before anything else: an authorised request gets past 401/403 (to 2xx, 404 or 422), an
unauthorised one stops there.

Also here: the key comparison goes through the constant-time function, and no key or
transcript text reaches the logs or a problem response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import keys
from service.app.keys import create_key, revoke_key
from service.store.database import Store
from tests.test_service_support import create_project, running_service, service_settings

KEY_WIDE: dict[tuple[str, str], str] = {
    ("GET", "/metrics"): "admin",
    ("POST", "/v1/projects"): "admin",
    ("POST", "/v1/projects/import"): "admin",
    ("GET", "/v1/projects"): "any key",  # lists the projects the key opens
}
"""Secured operations outside one project: which key they need."""

PATH_VALUES = {
    "project_id": "a",
    "transcript_id": "t",
    "exemplar_id": "999999",
    "batch_id": "0" * 32,
    "version": "0" * 16,
}
TRANSCRIPT_SECRET = "Zebra-quartz confidential sentence number 7731."
KINDS = ("none", "wrong", "revoked", "other project", "project", "admin", "two different keys")
DENIED = {401, 403}


@dataclass(frozen=True)
class Keys:
    admin: str
    project: str  # opens project a
    other: str  # opens project b
    revoked: str

    def headers(self, kind: str) -> dict[str, str]:
        """The request headers of one kind of credentials (the client's default cleared)."""
        bearer = {
            "none": "",
            "wrong": "Bearer ick_not-a-key",
            "revoked": f"Bearer {self.revoked}",
            "other project": f"Bearer {self.other}",
            "project": f"Bearer {self.project}",
            "admin": f"Bearer {self.admin}",
            "two different keys": f"Bearer {self.admin}",
        }[kind]
        headers = {"Authorization": bearer}
        if kind == "two different keys":
            headers["X-API-Key"] = self.project
        return headers


def access(method: str, path: str, operation: dict[str, Any]) -> str:
    if not operation.get("security"):
        return "public"
    if path.startswith("/v1/projects/{project_id}"):
        return "project"
    assert (method, path) in KEY_WIDE, f"{method} {path}: say in KEY_WIDE which key it needs"
    return KEY_WIDE[(method, path)]


def allowed(route_access: str, kind: str) -> bool:
    """Whether credentials of ``kind`` get past authorization on a route of this access."""
    if route_access == "public":
        return True
    if kind in {"none", "wrong", "revoked", "two different keys"}:
        return False
    if route_access == "admin":
        return kind == "admin"
    return kind == "admin" or kind == "project" or route_access == "any key"


def expected(route_access: str, kind: str) -> set[int] | None:
    """The statuses expected (None: any status but 401, 403 and 5xx)."""
    if allowed(route_access, kind):
        return None
    if kind in {"none", "wrong", "revoked", "two different keys"}:
        return {401}
    return {403}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Keys]]:
    data_dir: Path = tmp_path_factory.mktemp("auth") / "data"
    settings = service_settings(data_dir, require_api_keys=True)
    store = Store(settings.database_path)
    admin, _ = create_key(store, None, "admin")
    store.close()
    with running_service(settings, headers={"Authorization": f"Bearer {admin}"}) as client:
        create_project(client, "a")
        create_project(client, "b")
        files = {"file": ("t.txt", f"P3: {TRANSCRIPT_SECRET}\n")}
        assert client.post("/v1/projects/a/transcripts", files=files).status_code == 201
        store = Store(settings.database_path)
        project, _ = create_key(store, "a", "a")
        other, _ = create_key(store, "b", "b")
        revoked, row = create_key(store, "a", "revoked")
        revoke_key(store, row.id)
        store.close()
        yield client, Keys(admin=admin, project=project, other=other, revoked=revoked)


def _operations(client: httpx.Client) -> list[tuple[str, str, dict[str, Any]]]:
    paths = client.get("/openapi.json").json()["paths"]
    found = [
        (method.upper(), path, operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
    ]
    # Deleting project a last, so that every other route still finds it.
    return sorted(
        found, key=lambda item: (item[0], item[1]) == ("DELETE", "/v1/projects/{project_id}")
    )


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES[match.group(1)], path)


def test_every_route_and_kind_of_key_gets_the_expected_status(
    served: tuple[httpx.Client, Keys],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    client, secrets = served
    operations = _operations(client)
    wrong: list[str] = []
    bodies: list[str] = []
    caplog.set_level(logging.DEBUG, logger="intercoder")
    for method, path, operation in operations:
        route_access = access(method, path, operation)
        for kind in KINDS:  # "admin" after "project": a project key may delete project a
            response = client.request(method, _url(path), headers=secrets.headers(kind))
            bodies.append(response.text)
            statuses = expected(route_access, kind)
            ok = (
                response.status_code in statuses
                if statuses is not None
                else response.status_code not in DENIED and response.status_code < 500
            )
            if not ok:
                wrong.append(f"{method} {path} [{route_access}] {kind}: {response.status_code}")
    assert len(operations) >= 31
    assert not wrong, "\n".join(wrong)
    _assert_no_secrets(secrets, bodies, caplog, capfd)
    with capfd.disabled():  # the table's size, for eval/RESULTS.md
        print(
            f"authorization table: {len(operations)} routes x {len(KINDS)} kinds of credentials "
            f"= {len(operations) * len(KINDS)} requests"
        )


def _assert_no_secrets(
    secrets: Keys,
    bodies: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """No key or transcript text in any response body seen (problems included; the transcript
    route itself is read with an admin key and does carry the text, so it is left out) nor in
    any log record, its extras included."""
    logged = capfd.readouterr().err + "\n".join(str(vars(record)) for record in caplog.records)
    words = [secrets.admin, secrets.project, secrets.other, secrets.revoked, TRANSCRIPT_SECRET]
    assert "/v1/projects/{project_id}" in logged  # the service's request log was captured
    problems = [body for body in bodies if '"correlation_id"' in body]
    assert problems  # 401s, 403s and 422s were all problems
    for word in words:
        assert word not in logged, f"{word[:12]}... is in the logs"
        assert not any(word in body for body in problems), f"{word[:12]}... is in a problem"


def test_key_digests_are_compared_in_constant_time(
    served: tuple[httpx.Client, Keys], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, secrets = served
    compared: list[tuple[bytes, bytes]] = []
    real = keys.hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", recording)
    response = client.get("/v1/projects/b", headers=secrets.headers("other project"))
    assert response.status_code == 200, response.text
    digest = keys.hash_key(secrets.other).encode()
    assert (digest, digest) in compared
