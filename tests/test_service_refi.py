"""REFI-QDA over real HTTP: import a .qdpx/.qdc upload, export the project, import it again."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest

from codebook.refi import machine_user_name, read_qdc, read_qdpx
from models.suggesters import DEFAULT_METHOD
from service.app.keys import create_key
from service.store.database import Store
from tests.test_refi_cli import coded_by_name, study_codebook, study_coded, study_qdpx
from tests.test_service_support import create_project, running_service, service_settings

PROBLEM = "application/problem+json"


def _import(
    client: httpx.Client, content: bytes, filename: str = "study.qdpx", **form: str
) -> httpx.Response:
    return client.post(
        "/v1/projects/import", files={"file": (filename, content)}, data=form or None
    )


def test_upload_export_and_import_again(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        response = _import(client, study_qdpx(), project_id="study", min_share="0.5")
        assert response.status_code == 201, response.text
        assert response.headers["location"] == "/v1/projects/study"
        summary = response.json()
        assert summary["project"]["id"] == "study"
        assert summary["transcripts"] == 3
        assert summary["codes"] == 3
        coders = {c["coder"]: c["coded_units"] for c in summary["coders"]}
        assert coders == {"ana": 5, "ben": 4}
        assert summary["exemplars"] == summary["project"]["exemplar_count"] > 0
        assert summary["project"]["index_exemplar_count"] == summary["exemplars"]
        listed = client.get("/v1/projects/study/transcripts").json()["items"]
        assert len(listed) == 3

        exported = client.get("/v1/projects/study/export", params={"format": "qdpx"})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == "application/zip"
        assert 'filename="study.qdpx"' in exported.headers["content-disposition"]
        again = read_qdpx(exported.content)
        assert coded_by_name(again.coded, again.codebook) == coded_by_name(
            study_coded(), study_codebook()
        )

        second = _import(client, exported.content, project_id="study-2")
        assert second.status_code == 201, second.text
        assert {c["coder"]: c["coded_units"] for c in second.json()["coders"]} == coders

        qdc = client.get("/v1/projects/study/export", params={"format": "qdc"})
        assert qdc.status_code == 200
        assert qdc.headers["content-type"].startswith("application/xml")
        assert {c.name for c in read_qdc(qdc.content).codes} >= {"data poisoning", "evasion"}
        codebook_only = _import(client, qdc.content, "study.qdc", project_id="codes-only")
        assert codebook_only.status_code == 201, codebook_only.text
        assert codebook_only.json()["transcripts"] == 0


def test_export_with_suggestions_adds_the_machine_as_a_user(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        assert _import(client, study_qdpx(), project_id="study").status_code == 201
        human = read_qdpx(client.get("/v1/projects/study/export").content)
        assert set(human.coders) == {"ana", "ben"}
        response = client.get("/v1/projects/study/export", params={"include": "suggested"})
        assert response.status_code == 200, response.text
        project = read_qdpx(response.content)
        machine = machine_user_name("test-hashing-encoder", DEFAULT_METHOD)
        assert set(project.coders) == {"ana", "ben", machine}
        machine_rows = project.coded.loc[project.coded["coder"] == machine]
        assert set(machine_rows["transcript_id"]) == {"t3"}  # the one nobody coded

        # A coder accepts a suggestion on t3: their coding joins the export, and the accepted
        # suggestion is the machine's.
        decision = client.post(
            "/v1/projects/study/decisions",
            json={"action": "accept", "coder": "cleo", "transcript_id": "t3",
                  "sentence_index": 1, "suggested": ["T.1"], "method": "knn",
                  "agent": "test-hashing-encoder"},
        )  # fmt: skip
        assert decision.status_code == 201, decision.text
        response = client.get("/v1/projects/study/export", params={"include": "accepted"})
        assert response.status_code == 200, response.text
        accepted = read_qdpx(response.content)
        # The accepted suggestion's user is named after the method its decision records.
        accepting_machine = machine_user_name("test-hashing-encoder", "knn")
        assert set(accepted.coders) == {"ana", "ben", "cleo", accepting_machine}
        by_machine = accepted.coded.loc[accepted.coded["coder"] == accepting_machine]
        assert by_machine.loc[by_machine["codes"].map(len) > 0, "unit_id"].tolist() == ["1"]


def _entity_bomb() -> bytes:
    """A .qdpx whose project.qde is a "billion laughs" entity expansion."""
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 9)
    ]
    xml = f'<?xml version="1.0"?><!DOCTYPE p [{"".join(entities)}]><Project>&l8;</Project>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", xml)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("broken.qdpx", b"PK\x03\x04 not really a zip"),
        ("bomb.qdpx", _entity_bomb()),
        ("notes.txt", b"hello"),
        ("broken.qdc", b"<CodeBook><Codes>"),
    ],
)
def test_a_hostile_or_broken_upload_is_a_problem_and_stores_nothing(
    tmp_path: Path, filename: str, content: bytes
) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        response = _import(client, content, filename, project_id="bad")
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["detail"]
        assert client.get("/v1/projects/bad").status_code == 404


def test_a_taken_project_id_is_a_conflict_and_changes_nothing(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client, "study")
        response = _import(client, study_qdpx(), project_id="study")
        assert response.status_code == 409
        assert response.headers["content-type"].startswith(PROBLEM)
        assert client.get("/v1/projects/study/transcripts").json()["items"] == []
        missing = client.get("/v1/projects/nope/export")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith(PROBLEM)


def test_importing_needs_a_key_for_every_project(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data", require_api_keys=True)
    store = Store(settings.database_path)
    try:
        admin, _ = create_key(store, None)
    finally:
        store.close()
    with running_service(settings, headers={"X-API-Key": admin}) as client:
        create_project(client, "p1")
        store = Store(settings.database_path)
        try:
            scoped, _ = create_key(store, "p1")
        finally:
            store.close()
        response = client.post(
            "/v1/projects/import",
            files={"file": ("study.qdpx", study_qdpx())},
            headers={"X-API-Key": scoped},
        )
        assert response.status_code == 403
        exported = client.get("/v1/projects/p1/export", headers={"X-API-Key": scoped})
        assert exported.status_code == 200
