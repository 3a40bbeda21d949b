"""Every error path of the service over real HTTP, each answered as application/problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import models.errors  # noqa: F401  (registers the models layer errors)
import service.errors  # noqa: F401  (registers the service layer errors)
from codebook.errors import IntercoderError
from models.encoder import Embeddings
from models.testing import HashingEncoder
from service.api.main import create_app
from service.api.problems import ERROR_STATUS
from tests.test_service_support import (
    CODED_ROWS,
    add_exemplars,
    checked,
    create_project,
    running_service,
    service_settings,
)


def _all_subclasses(cls: type[IntercoderError]) -> set[type[IntercoderError]]:
    found = set()
    for subclass in cls.__subclasses__():
        found |= {subclass, *_all_subclasses(subclass)}
    return found


def test_every_error_class_has_its_own_status() -> None:
    unmapped = sorted(
        cls.__qualname__ for cls in _all_subclasses(IntercoderError) if cls not in ERROR_STATUS
    )
    assert not unmapped, f"add these to service.api.problems.ERROR_STATUS: {unmapped}"


class ExplodingEncoder(HashingEncoder):
    """Fails on one text, as a bug deep in the stack would."""

    def encode(self, texts: list[str]) -> Embeddings:
        if "explode" in texts:
            raise RuntimeError("secret internal detail /srv/model")
        return super().encode(texts)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = service_settings(
        tmp_path_factory.mktemp("errors") / "data",
        max_request_bytes=4096,
        max_batch_sentences=3,
        max_batch_exemplars=20,
    )
    with running_service(settings, encoder=ExplodingEncoder()) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        yield client


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:intercoder:problem:")
    assert body["title"]
    assert body["detail"]
    assert body["correlation_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/projects/nope"),
        ("DELETE", "/v1/projects/nope"),
        ("GET", "/v1/projects/nope/codebook"),
        ("GET", "/v1/projects/p1/exemplars/999999"),
        ("DELETE", "/v1/projects/p1/exemplars/999999"),
        ("GET", "/v1/projects/p1/transcripts/missing"),
        ("GET", "/v1/projects/p1/codebook/versions/0123456789abcdef"),
        ("GET", "/v1/nowhere"),
    ],
)
def test_unknown_things_are_404(client: httpx.Client, method: str, path: str) -> None:
    _problem(client.request(method, path), 404)


def test_suggesting_for_a_missing_transcript_or_sentence_is_404(client: httpx.Client) -> None:
    _problem(client.post("/v1/projects/p1/transcripts/missing/suggestions", json={}), 404)
    _problem(
        client.post(
            "/v1/projects/p1/decisions",
            json={"action": "accept", "coder": "a", "transcript_id": "x", "sentence_index": 0},
        ),
        404,
    )


def test_taken_ids_are_409(client: httpx.Client) -> None:
    body = _problem(client.post("/v1/projects", json={"id": "p1", "shipped_codebook": "swda"}), 409)
    assert "already exists" in body["detail"]
    again = client.post("/v1/projects/p1/exemplars", json={"exemplars": CODED_ROWS[:2]})
    conflict = _problem(again, 409)
    assert len(conflict["problems"]) == 2
    files = {"file": ("dup.txt", "A: hello there.\n")}
    assert client.post("/v1/projects/p1/transcripts", files=files).status_code == 201
    _problem(client.post("/v1/projects/p1/transcripts", files=files), 409)


def test_a_bad_codebook_lists_every_problem(client: httpx.Client) -> None:
    codebook = {
        "name": "",
        "colour_scheme": "x",
        "codes": [
            {"id": "a b", "name": "A"},
            {"id": "c", "name": ""},
            {"id": "d", "name": "D", "parent": "zz"},
            {"id": "e", "name": "E", "colour": "red"},
            {"id": "f", "name": "F"},
            {"id": "f", "name": "F again"},
        ],
    }
    body = _problem(client.post("/v1/projects", json={"id": "bad", "codebook": codebook}), 422)
    assert body["title"] == "Invalid codebook"
    messages = " | ".join(p["message"] for p in body["problems"])
    for expected in ("'name'", "colour_scheme", "spaces", "'c'", "zz", "duplicate", "colour"):
        assert expected in messages, (expected, messages)
    replaced = client.put("/v1/projects/p1/codebook", json={"codebook": codebook})
    assert len(_problem(replaced, 422)["problems"]) == len(body["problems"])
    _problem(client.post("/v1/projects", json={"shipped_codebook": "../../etc/passwd"}), 422)


def test_a_codebook_that_orphans_exemplars_is_refused(client: httpx.Client) -> None:
    narrow = {"name": "narrow", "codes": [{"id": "P", "name": "practice"}]}
    body = _problem(client.put("/v1/projects/p1/codebook", json={"codebook": narrow}), 422)
    assert {p["location"].split()[0] for p in body["problems"]} == {"exemplar"}


@pytest.mark.parametrize(
    ("filename", "content", "fragment"),
    [
        ("broken.docx", b"PK\x03\x04 not really a zip", "docx"),
        ("notes.pdf", b"%PDF-1.4", "extension"),
        ("empty.txt", b"   \n", "no speech"),
        ("bad.txt", b"A: caf\xc3\x28 is not UTF-8", "UTF-8"),
        ("../../etc/passwd.txt", b"A: hi.\n", "plain file name"),
        ("..\\secret.txt", b"A: hi.\n", "plain file name"),
    ],
)
def test_bad_transcripts_are_422(
    client: httpx.Client, filename: str, content: bytes, fragment: str
) -> None:
    response = client.post("/v1/projects/p1/transcripts", files={"file": (filename, content)})
    body = _problem(response, 422)
    assert fragment.lower() in body["detail"].lower()


def test_bad_coded_data_lists_every_row(client: httpx.Client) -> None:
    rows = [
        {"transcript_id": "z", "text": "one", "codes": ["NOPE"]},
        {"transcript_id": "z", "text": "two", "codes": ["T"]},
        {"transcript_id": "z", "text": "three", "codes": ["T.1", "ALSO-NOPE"]},
    ]
    body = _problem(client.post("/v1/projects/p1/exemplars", json={"exemplars": rows}), 422)
    assert len(body["problems"]) == 3
    csv = "transcript_id,text,codes\nz,one,NOPE\nz,two,\n"
    upload = client.post("/v1/projects/p1/exemplars/csv", files={"file": ("c.csv", csv)})
    assert "NOPE" in _problem(upload, 422)["problems"][0]["message"]
    decision = {"action": "change", "coder": "a", "text": "t", "codes": ["NOPE"]}
    _problem(client.post("/v1/projects/p1/decisions", json=decision), 422)


def test_schema_violations_are_422_problems(client: httpx.Client) -> None:
    body = _problem(client.post("/v1/projects/p1/suggestions", json={"sentences": [], "k": 0}), 422)
    assert {p["location"] for p in body["problems"]} >= {"body.sentences", "body.k"}
    _problem(
        client.post(
            "/v1/projects", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
    _problem(client.get("/v1/projects/p1/exemplars", params={"cursor": "abc"}), 422)
    _problem(client.get("/v1/projects/Bad%20Id"), 422)
    both = {"shipped_codebook": "swda", "codebook": {"name": "x", "codes": []}}
    _problem(client.post("/v1/projects", json=both), 422)


def test_batches_over_the_limits_are_422(client: httpx.Client) -> None:
    body = _problem(
        client.post("/v1/projects/p1/suggestions", json={"sentences": ["a", "b", "c", "d"]}), 422
    )
    assert body["title"] == "Batch too large"
    many = [{"transcript_id": "m", "text": f"x {i}", "codes": []} for i in range(21)]
    _problem(client.post("/v1/projects/p1/exemplars", json={"exemplars": many}), 422)
    text = "".join(f"A: sentence number {i}.\n" for i in range(5))
    checked(client.post("/v1/projects/p1/transcripts", files={"file": ("five.txt", text)}), 201)
    _problem(client.post("/v1/projects/p1/transcripts/five/suggestions", json={}), 422)
    paged = client.post("/v1/projects/p1/transcripts/five/suggestions", json={"limit": 3})
    assert paged.status_code == 200


def test_bodies_over_the_size_limit_are_413(client: httpx.Client) -> None:
    big = {"sentences": ["x" * 5000]}
    body = _problem(client.post("/v1/projects/p1/suggestions", json=big), 413)
    assert "4096 bytes" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is counted as it streams
        yield b'{"sentences": ["'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"]}'

    streamed = client.post(
        "/v1/projects/p1/suggestions",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    _problem(streamed, 413)
    upload = client.post("/v1/projects/p1/transcripts", files={"file": ("big.txt", b"A: x" * 3000)})
    _problem(upload, 413)
    assert client.get("/healthz").status_code == 200


def test_an_unexpected_error_is_a_500_without_internals(client: httpx.Client) -> None:
    response = client.post("/v1/projects/p1/suggestions", json={"sentences": ["explode"]})
    body = _problem(response, 500)
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert body["correlation_id"] in body["detail"]
    assert client.get("/v1/projects/p1").status_code == 200  # the server carries on


def test_deleting_a_project_removes_it_and_its_index(client: httpx.Client, tmp_path: Path) -> None:
    create_project(client, "gone")
    add_exemplars(client, "gone", CODED_ROWS[:2])
    assert client.delete("/v1/projects/gone").status_code == 204
    _problem(client.get("/v1/projects/gone"), 404)
    _problem(client.post("/v1/projects/gone/suggestions", json={"sentences": ["a"]}), 404)
    create_project(client, "gone")  # the id is free again, with a fresh, empty index
    fresh = client.get("/v1/projects/gone").json()
    assert fresh["exemplar_count"] == fresh["index_exemplar_count"] == 0
    assert np.isfinite(fresh["change_counter"])


def test_every_operation_documents_the_server_problems(tmp_path: Path) -> None:
    """A full disk (507, on changes) and an overloaded or unusable store (503) are answers the
    OpenAPI document declares, so a client generated from it expects them."""
    document = create_app(service_settings(tmp_path / "data")).openapi()
    undeclared = [
        f"{method.upper()} {path}: {status}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status in (["503"] if method == "get" else ["503", "507"])
        if "application/problem+json"
        not in operation["responses"].get(status, {}).get("content", {})
    ]
    assert not undeclared, undeclared
    assert len(document["paths"]) >= 20
