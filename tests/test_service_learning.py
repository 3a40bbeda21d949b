"""Every change counts at the next suggestion, for every method: the project's coder learns
from it before answering (no stale fit answers), and a codebook change recalibrates."""

from __future__ import annotations

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


def test_each_change_counts_at_the_next_suggestion(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path)) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        for method in ("linear", "blend", "knn", "prototype"):
            assert _suggest(client, method)["exemplar_count"] == len(CODED_ROWS)
        new_row = {"transcript_id": "t9", "text": QUERY, "codes": ["T.1"]}
        new_id = add_exemplars(client, "p1", [new_row])["ids"][0]
        for method in ("linear", "blend", "knn", "prototype"):
            answer = _suggest(client, method)
            assert answer["exemplar_count"] == len(CODED_ROWS) + 1, method
            assert new_id in _evidence_ids(answer), method
        response = client.delete(f"/v1/projects/p1/exemplars/{new_id}")
        assert response.status_code == 204, response.text
        for method in ("linear", "knn"):
            answer = _suggest(client, method)
            assert answer["exemplar_count"] == len(CODED_ROWS), method
            assert new_id not in _evidence_ids(answer), method


def test_a_codebook_change_refits_before_answering(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    with running_service(settings) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        before = _suggest(client, "linear")
        changed = {**SMALL_CODEBOOK, "description": "threats, second version"}
        response = client.put("/v1/projects/p1/codebook", json={"codebook": changed})
        assert response.status_code == 200, response.text
        after = _suggest(client, "linear")
        assert after["codebook_version"] != before["codebook_version"]
