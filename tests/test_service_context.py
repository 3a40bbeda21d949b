"""The service reads each unit with its speaker and previous unit when the model is a project
model (``context_turns = 1``), and the text alone with the bundled model.

A project model reads "speaker: text [SEP] previous" (models.context); the ContextHashingEncoder
of models/testing.py poses as one and records what it was given.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from models.cache import CachedEncoder
from models.context import UnitContext, contextual_text
from models.testing import ContextHashingEncoder, HashingEncoder
from service.app.runtime import build_encoder
from tests.test_service_support import (
    CODED_ROWS,
    TRANSCRIPT_TXT,
    add_exemplars,
    checked,
    create_project,
    running_service,
    service_settings,
)

QUESTION = "How do you train your models?"
RETRAIN = "We retrain the model every week."
POISON = "Someone could poison the training data."


def _read(speaker: str, text: str, previous: str = "") -> str:
    return contextual_text(UnitContext(text, speaker, previous))


def _inputs(encoder: HashingEncoder) -> set[str]:
    """Every text the encoder was asked to embed so far."""
    return {text for call in encoder.calls for text in call}


def _last_call(encoder: HashingEncoder) -> list[str]:
    return encoder.calls[-1]


def _upload_transcript(client: httpx.Client) -> None:
    upload = client.post(
        "/v1/projects/p1/transcripts", files={"file": ("Interview 7.txt", TRANSCRIPT_TXT)}
    )
    assert upload.status_code == 201, upload.text


def _suggest(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/projects/p1/suggestions", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_contextual_inputs_read_speaker_text_and_previous() -> None:
    assert _read("P3", RETRAIN, QUESTION) == f"P3: {RETRAIN} [SEP] {QUESTION}"
    assert _read("", RETRAIN) == RETRAIN


def test_stored_transcript_sentences_are_read_with_speaker_and_previous_sentence(
    tmp_path: Path,
) -> None:
    encoder = ContextHashingEncoder()
    with running_service(service_settings(tmp_path / "data"), encoder=encoder) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        _upload_transcript(client)
        response = client.post(
            "/v1/projects/p1/transcripts/Interview-7/suggestions", json={"offset": 1, "limit": 2}
        )
        assert response.status_code == 200, response.text
        # The page's first sentence still reads the sentence before the page.
        assert _last_call(encoder) == [
            _read("P3", RETRAIN, QUESTION),
            _read("P3", POISON, RETRAIN),
        ]
        whole = client.post("/v1/projects/p1/transcripts/Interview-7/suggestions")
        assert whole.status_code == 200, whole.text
        assert _last_call(encoder)[0] == _read("Interviewer", QUESTION)


def test_ad_hoc_sentences_are_read_with_the_context_sent(tmp_path: Path) -> None:
    encoder = ContextHashingEncoder()
    with running_service(service_settings(tmp_path / "data"), encoder=encoder) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        answer = _suggest(
            client, sentences=[POISON, RETRAIN], speakers=["P3", ""], previous_texts=["", QUESTION]
        )
        assert _last_call(encoder) == [_read("P3", POISON), f"{RETRAIN} [SEP] {QUESTION}"]
        assert [unit["unit"]["speaker"] for unit in answer["units"]] == ["P3", None]
        _suggest(client, sentences=[POISON])
        assert _last_call(encoder) == [POISON]


def test_exemplars_keep_their_context_and_are_embedded_with_it(tmp_path: Path) -> None:
    encoder = ContextHashingEncoder()
    rows = [
        {"transcript_id": "t1", "text": QUESTION, "codes": [], "speaker": "I"},
        {"transcript_id": "t1", "text": RETRAIN, "codes": ["P"], "speaker": "P3"},
        {"transcript_id": "t2", "text": POISON, "codes": ["T.1"], "previous_text": "So?"},
    ]
    csv_text = f"transcript_id,speaker,text,codes\nt5,P4,{QUESTION},\nt5,P4,{POISON},T.1\n"
    with running_service(service_settings(tmp_path / "data"), encoder=encoder) as client:
        create_project(client)
        added = add_exemplars(client, "p1", rows)
        assert _last_call(encoder) == [
            _read("I", QUESTION),
            _read("P3", RETRAIN, QUESTION),  # previous_text defaults to the previous row
            _read("", POISON, "So?"),
        ]
        stored = client.get(f"/v1/projects/p1/exemplars/{added['ids'][1]}").json()
        assert (stored["speaker"], stored["previous_text"]) == ("P3", QUESTION)
        upload = client.post(
            "/v1/projects/p1/exemplars/csv", files={"file": ("coded.csv", csv_text)}
        )
        assert upload.status_code == 201, upload.text
        assert _last_call(encoder) == [_read("P4", QUESTION), _read("P4", POISON, QUESTION)]


def test_decisions_become_exemplars_with_their_context(tmp_path: Path) -> None:
    encoder = ContextHashingEncoder()
    with running_service(service_settings(tmp_path / "data"), encoder=encoder) as client:
        create_project(client)
        _upload_transcript(client)
        stored = client.post(
            "/v1/projects/p1/decisions",
            json={"action": "change", "coder": "ana", "transcript_id": "Interview-7",
                  "sentence_index": 2, "suggested": [], "codes": ["T.1"]},
        )  # fmt: skip
        assert stored.status_code == 201, stored.text
        assert _last_call(encoder) == [_read("P3", POISON, RETRAIN)]
        ad_hoc = client.post(
            "/v1/projects/p1/decisions",
            json={"action": "change", "coder": "ana", "text": "They fool it.", "speaker": "P5",
                  "previous_text": "What about attacks?", "suggested": [], "codes": ["T.2"]},
        )  # fmt: skip
        assert ad_hoc.status_code == 201, ad_hoc.text
        assert _last_call(encoder) == [_read("P5", "They fool it.", "What about attacks?")]
        exemplar = client.get(f"/v1/projects/p1/exemplars/{ad_hoc.json()['exemplar_id']}").json()
        assert (exemplar["speaker"], exemplar["previous_text"]) == ("P5", "What about attacks?")


def test_the_bundled_path_reads_the_text_alone_and_scores_do_not_move(tmp_path: Path) -> None:
    encoder = HashingEncoder()  # no context_turns: the frozen model's behaviour
    with running_service(service_settings(tmp_path / "data"), encoder=encoder) as client:
        create_project(client)
        add_exemplars(client, "p1", [{**row, "speaker": "P1"} for row in CODED_ROWS])
        _upload_transcript(client)
        checked(client.post("/v1/projects/p1/transcripts/Interview-7/suggestions"))
        with_context = _suggest(
            client, sentences=[POISON], speakers=["P3"], previous_texts=[QUESTION]
        )
        without = _suggest(client, sentences=[POISON])
    assert not any("[SEP]" in text or ": " in text for text in _inputs(encoder))
    assert with_context["units"][0]["suggestions"] == without["units"][0]["suggestions"]


def test_context_lists_of_another_length_are_a_422_problem(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        response = client.post(
            "/v1/projects/p1/suggestions",
            json={"sentences": [POISON, RETRAIN], "previous_texts": [QUESTION]},
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        messages = " ".join(p["message"] for p in response.json()["problems"])
        assert "previous_texts has 1 entries but sentences has 2" in messages
        stored = client.post(
            "/v1/projects/p1/decisions",
            json={"action": "reject", "coder": "ana", "transcript_id": "t", "sentence_index": 0,
                  "speaker": "P3"},
        )  # fmt: skip
        assert stored.status_code == 422
        assert "come from its transcript" in stored.text


def test_a_project_model_re_embeds_stored_exemplars_with_their_context(tmp_path: Path) -> None:
    """A database filled under the bundled model keeps its rows when a project model starts
    on it, and the index then holds the contextual embeddings."""
    settings = service_settings(tmp_path / "data")
    rows = [{**row, "speaker": "P1"} for row in CODED_ROWS[:3]]
    with running_service(settings, encoder=HashingEncoder()) as client:
        create_project(client)
        ids = add_exemplars(client, "p1", rows)["ids"]
    project_model = ContextHashingEncoder()
    with running_service(settings, encoder=project_model) as client:
        listed = client.get("/v1/projects/p1/exemplars").json()["items"]
        assert [item["id"] for item in listed] == ids
    texts = [str(row["text"]) for row in rows]
    expected = [
        _read("P1", texts[0]),
        _read("P1", texts[1], texts[0]),
        _read("P1", texts[2], texts[1]),
    ]
    assert expected in project_model.calls
    with sqlite3.connect(settings.database_path) as connection:
        stored = connection.execute("SELECT model_id, embedding FROM exemplars ORDER BY id")
        blobs = stored.fetchall()
    assert {model for model, _ in blobs} == {project_model.model_id}
    vectors = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in blobs])
    np.testing.assert_allclose(vectors, ContextHashingEncoder().encode(expected), atol=1e-6)


@pytest.mark.parametrize(("hook", "turns"), [("hashing", 0), ("hashing-context", 1)])
def test_the_test_encoder_hook_has_a_contextual_variant(
    tmp_path: Path, hook: str, turns: int
) -> None:
    encoder = build_encoder(service_settings(tmp_path / "data", test_encoder=hook))
    assert isinstance(encoder, CachedEncoder)
    assert encoder.context_turns == turns
    encoder.cache.close()
