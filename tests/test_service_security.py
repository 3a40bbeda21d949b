"""API keys, project scopes and the refusal to serve a network without keys, over real HTTP."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from service.app.keys import create_key, is_loopback
from service.app.lifecycle import open_workspace
from service.cli.serve import serve
from service.errors import ConfigurationError
from service.metrics import Metrics
from service.settings import get_settings
from service.store.database import Store
from tests.test_service_support import (
    CODED_ROWS,
    TRANSCRIPT_TXT,
    checked,
    create_project,
    running_service,
    service_settings,
)

runner = CliRunner()


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(serve)
    return app


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def test_loopback_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.5", "example.org"]))


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    result = runner.invoke(_cli(), ["--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "API keys are required" in result.output
    assert "--create-key" in result.output


def test_the_app_refuses_to_start_without_keys_when_they_are_required(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data", require_api_keys=True)
    with pytest.raises(ConfigurationError, match="API keys are required"):
        open_workspace(settings, None, Metrics())


def test_keys_are_stored_hashed_and_printed_once(tmp_path: Path) -> None:
    result = runner.invoke(_cli(), ["--create-key", "--label", "ana"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("ick_")
    with sqlite3.connect(tmp_path / "data" / "intercoder.sqlite3") as connection:
        stored = connection.execute("SELECT key_sha256, label FROM api_keys").fetchall()
    assert len(stored) == 1
    assert key not in repr(stored)
    assert stored[0][1] == "ana"
    refused = runner.invoke(_cli(), ["--create-key", "--project", "nope"])
    assert refused.exit_code == 2
    assert "no project 'nope'" in refused.output


@contextmanager
def _as_admin(tmp_path: Path) -> Iterator[tuple[httpx.Client, str]]:
    """A service that requires keys, and a client holding a new admin key (also yielded)."""
    settings = service_settings(tmp_path / "data", require_api_keys=True)
    store = Store(settings.database_path)
    admin, _ = create_key(store, None, "admin")
    store.close()
    with running_service(settings, headers={"Authorization": f"Bearer {admin}"}) as client:
        yield client, admin


def test_keys_open_only_their_project(tmp_path: Path) -> None:
    with _as_admin(tmp_path) as (client, _):
        create_project(client, "a")
        create_project(client, "b")
        store = Store(service_settings(tmp_path / "data").database_path)
        key_a, _ = create_key(store, "a", "coder of a")
        store.close()

        anonymous = client.get("/v1/projects/a", headers={"Authorization": ""})
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert (
            client.get("/v1/projects/a", headers={"Authorization": "Bearer ick_wrong"}).status_code
            == 401
        )

        as_a = {"Authorization": "", "X-API-Key": key_a}
        assert client.get("/v1/projects/a", headers=as_a).status_code == 200
        assert client.get("/v1/projects/b", headers=as_a).status_code == 403
        assert client.get("/v1/projects/nope", headers=as_a).status_code == 403
        suggest = {"sentences": ["poison the data"]}
        assert (
            client.post("/v1/projects/b/suggestions", json=suggest, headers=as_a).status_code == 403
        )
        assert (
            client.post("/v1/projects/a/suggestions", json=suggest, headers=as_a).status_code == 200
        )
        # batches go with their project like every other route under it
        assert client.post("/v1/projects/b/batches", json={}, headers=as_a).status_code == 403
        assert client.get("/v1/projects/b/batches", headers=as_a).status_code == 403
        assert client.post("/v1/projects/a/batches", json={}, headers=as_a).status_code == 202
        assert client.get("/v1/projects/a/batches", headers=as_a).status_code == 200
        listed = client.get("/v1/projects", headers=as_a).json()["items"]
        assert [p["id"] for p in listed] == ["a"]
        assert [p["id"] for p in client.get("/v1/projects").json()["items"]] == ["a", "b"]
        new = {"id": "c", "shipped_codebook": "swda"}
        assert client.post("/v1/projects", json=new, headers=as_a).status_code == 403
        assert client.delete("/v1/projects/b", headers=as_a).status_code == 403
        assert client.get("/metrics", headers=as_a).status_code == 403
        assert client.get("/metrics").status_code == 200
        # Liveness and readiness stay open to orchestrators.
        assert client.get("/healthz", headers={"Authorization": ""}).status_code == 200
        assert client.get("/readyz", headers={"Authorization": ""}).status_code == 200


def test_loopback_needs_no_key_by_default(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        assert client.get("/v1/projects/p1").status_code == 200


def test_the_service_makes_no_outbound_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Transcripts never leave the machine: through a whole flow, every connection any thread
    of this process opens (the test's client included) goes to loopback."""
    targets: list[object] = []
    real_connect = socket.socket.connect

    def recording_connect(self: socket.socket, address: object) -> None:
        targets.append(address)
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        upload = client.post(
            "/v1/projects/p1/transcripts", files={"file": ("t.txt", TRANSCRIPT_TXT)}
        )
        checked(upload, 201)
        checked(client.post("/v1/projects/p1/transcripts/t/suggestions", json={}))
        checked(client.post("/v1/projects/p1/exemplars", json={"exemplars": CODED_ROWS}), 201)
        checked(client.post("/v1/projects/p1/evaluations", json={"methods": ["knn"]}))
    assert targets
    hosts = {address[0] for address in targets if isinstance(address, tuple)}
    assert hosts <= {"127.0.0.1"}, hosts


def test_keys_are_listed_without_secrets_and_a_revoked_key_is_refused_at_once(
    tmp_path: Path,
) -> None:
    from service.cli.main import app

    with _as_admin(tmp_path) as (client, admin):
        create_project(client, "a")
        created = runner.invoke(app, ["serve", "--create-key", "--project", "a", "--label", "ana"])
        assert created.exit_code == 0, created.output
        key_a = created.stdout.strip().splitlines()[-1]
        as_a = {"Authorization": f"Bearer {key_a}"}
        assert client.get("/v1/projects/a", headers=as_a).status_code == 200

        listed = runner.invoke(app, ["keys", "list"])
        assert listed.exit_code == 0, listed.output
        rows = [line.split("\t") for line in listed.stdout.strip().splitlines()]
        assert rows[0] == ["id", "project", "label", "created"]
        assert [row[1:3] for row in rows[1:]] == [["*", "admin"], ["a", "ana"]]
        assert key_a not in listed.output
        assert admin not in listed.output

        revoked = runner.invoke(app, ["keys", "revoke", rows[2][0]])
        assert revoked.exit_code == 0, revoked.output
        refused = client.get("/v1/projects/a", headers=as_a)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert client.get("/v1/projects/a").status_code == 200  # the admin key still works

    unknown = runner.invoke(app, ["keys", "revoke", "999"])
    assert unknown.exit_code == 2
    assert "no API key with id 999" in unknown.output
    assert len(runner.invoke(app, ["keys", "list"]).stdout.strip().splitlines()) == 2
