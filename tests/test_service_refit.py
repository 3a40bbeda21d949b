"""Slow refits run in the background: the previous fit answers meanwhile, marked
`refitting`, with its own evidence; the new fit replaces it when done. Quick ones refit first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    add_exemplars,
    create_project,
    running_service,
    service_settings,
)

QUERY = "Somebody might tamper with the labels we train on."


def _suggest(client: httpx.Client, method: str) -> dict[str, Any]:
    response = client.post(
        "/v1/projects/p1/suggestions",
        json={"sentences": [QUERY], "method": method, "evidence": 20, "k": 20},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _evidence_ids(answer: dict[str, Any]) -> set[int]:
    unit = answer["units"][0]
    evidence = [e for code in unit["suggestions"] for e in code["evidence"]]
    return {e["exemplar_id"] for e in evidence + unit["no_code_evidence"]}


def _until_refitted(client: httpx.Client, method: str, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = _suggest(client, method)
        if answer["exemplar_count"] == count and not answer["refitting"]:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"the {method} fit never caught up with {count} exemplars")


def test_a_change_is_answered_by_the_previous_fit_until_the_refit_lands(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, background_fit_seconds=0.0)
    with running_service(settings) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        for method in ("linear", "blend", "knn"):
            first = _suggest(client, method)
            assert (first["exemplar_count"], first["refitting"]) == (len(CODED_ROWS), False)
        new_row = {"transcript_id": "t9", "text": QUERY, "codes": ["T.1"]}
        new_id = add_exemplars(client, "p1", [new_row])["ids"][0]
        for method in ("linear", "blend", "knn"):
            stale = _suggest(client, method)
            assert stale["refitting"] is True
            assert stale["exemplar_count"] == len(CODED_ROWS)
            # the evidence is the previous fit's too: the new exemplar is not shown yet
            assert new_id not in _evidence_ids(stale)
            fresh = _until_refitted(client, method, len(CODED_ROWS) + 1)
            assert new_id in _evidence_ids(fresh)


def test_quick_fits_refit_before_answering(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, background_fit_seconds=1e9)
    with running_service(settings) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        for method in ("linear", "knn"):
            _suggest(client, method)
        add_exemplars(client, "p1", [{"transcript_id": "t9", "text": QUERY, "codes": ["T.1"]}])
        for method in ("linear", "knn"):
            answer = _suggest(client, method)
            assert (answer["exemplar_count"], answer["refitting"]) == (len(CODED_ROWS) + 1, False)


def test_a_codebook_change_refits_before_answering(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, background_fit_seconds=0.0)
    with running_service(settings) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        before = _suggest(client, "linear")
        changed = {**SMALL_CODEBOOK, "description": "threats, second version"}
        response = client.put("/v1/projects/p1/codebook", json={"codebook": changed})
        assert response.status_code == 200, response.text
        after = _suggest(client, "linear")
        assert after["refitting"] is False
        assert after["codebook_version"] != before["codebook_version"]
