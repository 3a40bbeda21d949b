"""Hostile text everywhere text goes in over the API: suggestions, exemplars (JSON and CSV),
decisions, transcripts, codebooks.

A lone surrogate (``"\\ud800"`` in JSON) is not text: every route refuses it with a 422
problem naming the field. NUL, bidi controls and 20,000-character lines are text: a route
answers a 4xx problem or succeeds, never a 5xx, and what it accepted reads back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    TRANSCRIPT_TXT,
    add_exemplars,
    create_project,
    running_service,
    service_settings,
)

LONG_LINE = "x" + ("poison the training data " * 800)[:19_999]  # one line, no edge spaces
HOSTILE = {
    "nul": "poison\x00the data",
    "bidi": "poison \u202eatad eht\u202c the \u2066data\u2069 \u200fnow",
    "long": LONG_LINE,
}
SURROGATE = "poison \ud800 the data"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data_dir: Path = tmp_path_factory.mktemp("hostile") / "data"
    with running_service(service_settings(data_dir)) as client:
        create_project(client, "p1")
        add_exemplars(client, "p1", CODED_ROWS)
        files = {"file": ("t.txt", TRANSCRIPT_TXT)}
        assert client.post("/v1/projects/p1/transcripts", files=files).status_code == 201
        yield client


def post_json(client: httpx.Client, url: str, body: Any, method: str = "POST") -> httpx.Response:
    """JSON as a client in any language may send it: non-ASCII as \\u escapes, so that a lone
    surrogate arrives as the six characters \\ud800."""
    content = json.dumps(body).encode("ascii")
    headers = {"content-type": "application/json"}
    return client.request(method, url, content=content, headers=headers)


def refused_naming(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    messages = " ".join(item["message"] for item in response.json()["problems"])
    assert f"body.{field}" in messages, messages
    assert "lone surrogate U+D800" in messages


def not_a_server_error(response: httpx.Response) -> bool:
    """True when it succeeded; a 4xx must be a problem; a 5xx fails the test."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        return False
    return True


def _suggestion_bodies(text: str) -> dict[str, dict[str, Any]]:
    return {
        "sentences.0": {"sentences": [text]},
        "speakers.0": {"sentences": ["poison"], "speakers": [text]},
        "previous_texts.0": {"sentences": ["poison"], "previous_texts": [text]},
        "code_speakers.0": {"sentences": ["poison"], "code_speakers": [text]},
    }


def _exemplar(text: str, field: str, transcript_id: str = "h1") -> dict[str, Any]:
    row = {"transcript_id": transcript_id, "text": "Someone could poison.", "codes": ["T.1"]}
    return {**row, field: [text] if field == "codes" else text}


EXEMPLAR_FIELDS = ["text", "transcript_id", "speaker", "coder", "previous_text", "group", "codes"]


@pytest.mark.parametrize("field", sorted(_suggestion_bodies("x")))
def test_suggestions_refuse_a_lone_surrogate(client: httpx.Client, field: str) -> None:
    body = _suggestion_bodies(SURROGATE)[field]
    refused_naming(post_json(client, "/v1/projects/p1/suggestions", body), field)


@pytest.mark.parametrize("field", EXEMPLAR_FIELDS)
def test_exemplars_refuse_a_lone_surrogate(client: httpx.Client, field: str) -> None:
    body = {"exemplars": [_exemplar(SURROGATE, field)]}
    refused_naming(post_json(client, "/v1/projects/p1/exemplars", body), f"exemplars.0.{field}")


@pytest.mark.parametrize("field", ["text", "coder", "speaker", "previous_text", "suggested"])
def test_decisions_refuse_a_lone_surrogate(client: httpx.Client, field: str) -> None:
    body: dict[str, Any] = {"action": "accept", "coder": "ana", "text": "poison the data"}
    body[field] = [SURROGATE] if field == "suggested" else SURROGATE
    where = f"{field}.0" if field == "suggested" else field
    refused_naming(post_json(client, "/v1/projects/p1/decisions", body), where)


def test_codebooks_refuse_a_lone_surrogate_in_any_field_or_key(client: httpx.Client) -> None:
    codebook = json.loads(json.dumps(SMALL_CODEBOOK))
    codebook["codes"][1]["definition"] = SURROGATE
    put = post_json(client, "/v1/projects/p1/codebook", {"codebook": codebook}, "PUT")
    refused_naming(put, "codebook.codes.1.definition")
    created = post_json(client, "/v1/projects", {"id": "h2", "codebook": {SURROGATE: 1}})
    refused_naming(created, "codebook (a key)")


def test_uploads_refuse_a_surrogate_encoded_as_bytes(client: httpx.Client) -> None:
    """Files are decoded strictly: UTF-8 bytes of a surrogate are not text either."""
    surrogate_bytes = b"P3: poison \xed\xa0\x80 the data.\n"
    upload = client.post(
        "/v1/projects/p1/transcripts", files={"file": ("bad.txt", surrogate_bytes)}
    )
    assert upload.status_code == 422, upload.text
    csv = b"transcript_id,text,codes\nc1,poison \xed\xa0\x80 data,T.1\n"
    added = client.post("/v1/projects/p1/exemplars/csv", files={"file": ("c.csv", csv)})
    assert added.status_code == 422, added.text


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_suggestions_take_hostile_text(client: httpx.Client, kind: str) -> None:
    for field, body in _suggestion_bodies(HOSTILE[kind]).items():
        response = post_json(client, "/v1/projects/p1/suggestions", body)
        succeeded = not_a_server_error(response)
        # a speaker nobody in the project has: "code only these speakers" is refused
        assert succeeded == (field != "code_speakers.0"), response.text
        if field == "sentences.0":
            assert response.json()["units"][0]["unit"]["text"] == HOSTILE[kind]


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("field", ["text", "speaker", "coder", "previous_text", "group"])
def test_exemplars_take_hostile_text_and_give_it_back(
    client: httpx.Client, kind: str, field: str
) -> None:
    text = HOSTILE[kind]
    body = {"exemplars": [_exemplar(text, field, transcript_id=f"h-{kind}-{field}")]}
    response = post_json(client, "/v1/projects/p1/exemplars", body)
    short_field = field in {"speaker", "coder", "group"}  # at most 200 characters
    assert not_a_server_error(response) == (kind != "long" or not short_field), response.text
    if response.status_code == 201:
        (exemplar_id,) = response.json()["ids"]
        read = client.get(f"/v1/projects/p1/exemplars/{exemplar_id}")
        assert read.status_code == 200, read.text
        assert read.json()[field] == text
        export = client.get("/v1/projects/p1/codings.csv")
        assert export.status_code == 200, export.text


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_decisions_take_hostile_text_and_give_it_back(client: httpx.Client, kind: str) -> None:
    text = HOSTILE[kind]
    body = {"action": "change", "coder": "ana", "text": text, "codes": ["T.1"], "speaker": "P3"}
    response = post_json(client, "/v1/projects/p1/decisions", body)
    assert not_a_server_error(response), response.text
    assert response.json()["text"] == text
    exemplar = client.get(f"/v1/projects/p1/exemplars/{response.json()['exemplar_id']}")
    assert exemplar.json()["text"] == text


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_transcripts_take_hostile_text_and_give_it_back(client: httpx.Client, kind: str) -> None:
    line = HOSTILE[kind]
    for name, content in {
        f"{kind}-txt.txt": f"P3: {line}\n",
        f"{kind}-vtt.vtt": f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v P3>{line}\n",
        f"{kind}-srt.srt": f"1\n00:00:01,000 --> 00:00:02,000\nP3: {line}\n",
    }.items():
        upload = client.post("/v1/projects/p1/transcripts", files={"file": (name, content)})
        assert not_a_server_error(upload), upload.text
        transcript = f"/v1/projects/p1/transcripts/{upload.json()['id']}"
        read = client.get(transcript)
        assert read.status_code == 200, read.text
        assert line in read.json()["text"]
        assert not_a_server_error(post_json(client, f"{transcript}/suggestions", {}))


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_codebooks_take_hostile_text_and_give_it_back(client: httpx.Client, kind: str) -> None:
    codebook = json.loads(json.dumps(SMALL_CODEBOOK))
    codebook["codes"][1]["definition"] = HOSTILE[kind]
    codebook["codes"][3]["examples"] = [HOSTILE[kind]]
    put = post_json(client, "/v1/projects/p1/codebook", {"codebook": codebook}, "PUT")
    assert not_a_server_error(put), put.text
    codes = client.get("/v1/projects/p1/codebook").json()["codebook"]["codes"]
    assert codes[1]["definition"] == HOSTILE[kind]
    assert [example["text"] for example in codes[3]["examples"]] == [HOSTILE[kind]]
    suggested = post_json(client, "/v1/projects/p1/suggestions", {"sentences": ["poison"]})
    assert not_a_server_error(suggested), suggested.text
