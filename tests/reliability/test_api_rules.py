"""What fuzzing found, each kept fixed by a test of its own: the schema says what the service
checks (so schema-valid requests are accepted and invalid ones refused), 405 answers name every
allowed method, and credentials that disagree are refused."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from codebook.loader import SHIPPED_CODEBOOKS
from models.testing import HashingEncoder
from service.api.schemas import ShippedCodebook
from service.app.keys import create_key
from service.store.database import Store
from tests.test_service_support import (
    CODED_ROWS,
    add_exemplars,
    create_project,
    running_service,
    service_settings,
)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str, str]]:
    """A service requiring keys with project p1; the client holds the admin key; also yields
    the admin key and a key for p1."""
    settings = service_settings(tmp_path_factory.mktemp("rules") / "data", require_api_keys=True)
    store = Store(settings.database_path)
    admin, _ = create_key(store, None, "admin")
    store.close()
    with running_service(settings, headers={"Authorization": f"Bearer {admin}"}) as client:
        create_project(client, "p1")
        add_exemplars(client, "p1", CODED_ROWS)
        store = Store(settings.database_path)
        project_key, _ = create_key(store, "p1", "p1")
        store.close()
        yield client, admin, project_key


def _status(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def test_credentials_that_disagree_are_refused(keyed: tuple[httpx.Client, str, str]) -> None:
    client, admin, project_key = keyed
    both_right = {"Authorization": f"Bearer {admin}", "X-API-Key": admin}
    _status(client.get("/v1/projects/p1", headers=both_right), 200)
    wrong_bearer = {"Authorization": "Bearer ick_wrong", "X-API-Key": admin}
    assert (
        "two different API keys"
        in _status(client.get("/v1/projects/p1", headers=wrong_bearer), 401)["detail"]
    )
    two_keys = {"Authorization": f"Bearer {admin}", "X-API-Key": project_key}
    _status(client.get("/v1/projects/p1", headers=two_keys), 401)
    basic = {"Authorization": "Basic dXNlcjpwYXNz", "X-API-Key": admin}
    assert (
        "not 'Bearer <key>'" in _status(client.get("/v1/projects/p1", headers=basic), 401)["detail"]
    )
    only_header = {"Authorization": "", "X-API-Key": project_key}
    _status(client.get("/v1/projects/p1", headers=only_header), 200)


def test_a_project_key_is_refused_admin_work_before_its_body_is_read(
    keyed: tuple[httpx.Client, str, str],
) -> None:
    client, _, project_key = keyed
    as_project = {"Authorization": f"Bearer {project_key}"}
    _status(client.post("/v1/projects", headers=as_project, content=b"not json"), 403)
    _status(client.post("/v1/projects/import", headers=as_project), 403)
    _status(client.get("/metrics", headers=as_project), 403)


def test_405_names_every_method_of_the_resource(keyed: tuple[httpx.Client, str, str]) -> None:
    client, _, _ = keyed
    response = client.request("PATCH", "/v1/projects")
    _status(response, 405)
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/problem+json"
    assert client.request("TRACE", "/v1/projects/p1").headers["allow"] == "DELETE, GET"
    # "csv" is not an exemplar id: the path belongs to the CSV upload, which takes POST only
    csv = client.get("/v1/projects/p1/exemplars/csv")
    _status(csv, 405)
    assert csv.headers["allow"] == "POST"


def test_values_are_taken_as_the_schema_types_them(keyed: tuple[httpx.Client, str, str]) -> None:
    client, _, _ = keyed
    _status(client.post("/v1/projects/p1/evaluations", json={"seed": False}), 422)
    _status(client.post("/v1/projects/p1/suggestions", json={"sentences": ["a"], "k": "3"}), 422)
    _status(client.post("/v1/projects/p1/suggestions", json={"sentences": ["a"], "top": 2.0}), 422)


def test_cursors_are_checked_by_the_schema(keyed: tuple[httpx.Client, str, str]) -> None:
    client, _, _ = keyed
    for url, cursor in [
        ("/v1/projects/p1/exemplars", "0" * 19),
        ("/v1/projects/p1/decisions", "abc"),
        ("/v1/projects", "Not-an-id"),
        ("/v1/projects/p1/transcripts", "-x"),
    ]:
        body = _status(client.get(url, params={"cursor": cursor}), 422)
        assert body["problems"][0]["location"] == "query.cursor"
    _status(client.get("/v1/projects/p1/exemplars", params={"cursor": "0" * 18}), 200)


def test_rules_between_fields_are_in_the_schema(keyed: tuple[httpx.Client, str, str]) -> None:
    client, _, _ = keyed
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert len(schemas["DecisionIn"]["allOf"]) == 2
    assert len(schemas["ProjectCreate"]["oneOf"]) == 2
    assert len(schemas["CodebookSource"]["oneOf"]) == 2
    sentence = schemas["SentencesSuggestRequest"]["properties"]["sentences"]["items"]
    assert sentence["pattern"]
    _status(client.post("/v1/projects/p1/suggestions", json={"sentences": [" \t\x1c"]}), 422)
    decision = {"action": "accept", "coder": "ana", "text": "poison", "transcript_id": "t"}
    _status(client.post("/v1/projects/p1/decisions", json=decision), 422)


def test_the_shipped_codebook_names_match_the_schema_enum() -> None:
    assert set(typing.get_args(ShippedCodebook)) == set(SHIPPED_CODEBOOKS)


def test_the_test_encoder_gives_every_text_a_unit_vector(
    keyed: tuple[httpx.Client, str, str],
) -> None:
    """Like the real model: a text without words ("0") is still a text (it was a 422 that the
    schema did not foresee)."""
    vectors = HashingEncoder().encode(["0", "?!", "\x00"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    client, _, _ = keyed
    rows = [{"transcript_id": "digits", "text": "0", "codes": []}]
    _status(client.post("/v1/projects/p1/exemplars", json={"exemplars": rows}), 201)


def test_indexes_beyond_sqlite_integers_are_refused(keyed: tuple[httpx.Client, str, str]) -> None:
    """Found by probing the schema's unbounded integers: 2**63 reached SQLite (a 500)."""
    client, _, _ = keyed
    files = {"file": ("t.txt", "P3: We retrain the model every week.\n")}
    _status(client.post("/v1/projects/p1/transcripts", files=files), 201)
    for body in ({"offset": 2**63}, {"limit": 2**64}):
        _status(client.post("/v1/projects/p1/transcripts/t/suggestions", json=body), 422)
    decision = {"action": "reject", "coder": "a", "transcript_id": "t", "sentence_index": 2**64}
    _status(client.post("/v1/projects/p1/decisions", json=decision), 422)


def test_import_is_a_route_not_a_project(keyed: tuple[httpx.Client, str, str]) -> None:
    """Found by schemathesis: the router read GET /v1/projects/import as project "import", so
    the 405 of OPTIONS there listed GET and DELETE, which the schema does not give it."""
    client, _, _ = keyed
    for method in ("GET", "DELETE", "OPTIONS"):
        response = client.request(method, "/v1/projects/import")
        _status(response, 405)
        assert response.headers["allow"] == "POST"
    taken = client.post("/v1/projects", json={"id": "import", "shipped_codebook": "swda"})
    assert "names a route" in _status(taken, 409)["detail"]
