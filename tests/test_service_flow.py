"""The coding service end to end over real HTTP: a project's whole life, and a restart."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from codebook.coded_csv import read_coded_csv
from codebook.loader import build_codebook
from models.suggesters import DEFAULT_METHOD
from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    TRANSCRIPT_TXT,
    add_exemplars,
    checked,
    create_project,
    running_service,
    service_settings,
)


def _suggest(client: httpx.Client, text: str, **options: object) -> dict[str, object]:
    response = client.post("/v1/projects/p1/suggestions", json={"sentences": [text], **options})
    assert response.status_code == 200, response.text
    unit: dict[str, object] = response.json()["units"][0]
    return unit


def _decide(client: httpx.Client, decision: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = checked(client.post("/v1/projects/p1/decisions", json=decision), 201)
    return answer


def test_cold_start_then_exemplars_then_decisions_shape_the_suggestions(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        cold = checked(
            client.post(
                "/v1/projects/p1/suggestions", json={"sentences": ["poison the training data"]}
            )
        )
        assert cold["cold_start"] is True
        assert cold["method"] == "prototype"
        top = cold["units"][0]["suggestions"][0]
        assert top["code"] == "T.1"
        assert top["agent"] == "test-hashing-encoder"
        assert all(e["exemplar_id"] < 0 for e in top["evidence"])  # the codebook's own texts

        added = add_exemplars(client, "p1", CODED_ROWS)
        assert added["exemplar_count"] == len(CODED_ROWS)
        unit = _suggest(client, "Someone could poison the data.")
        assert unit["suggested"] == ["T.1"]
        best = unit["suggestions"][0]  # type: ignore[index]
        assert best["evidence"][0]["exemplar_id"] in added["ids"]

        # A coder changes the coding of a new sentence; it is an exemplar at once.
        odd = "Bananas are a threat to the pipeline."
        decision = _decide(
            client,
            {
                "action": "change",
                "coder": "ana",
                "text": odd,
                "suggested": [],
                "codes": ["T.2"],
            },
        )
        assert decision["exemplar_id"] is not None
        unit = _suggest(client, odd)
        evasion = next(s for s in unit["suggestions"] if s["code"] == "T.2")  # type: ignore[attr-defined]
        nearest = evasion["evidence"][0]
        assert nearest["exemplar_id"] == decision["exemplar_id"]
        assert nearest["similarity"] == pytest.approx(1.0, abs=1e-5)

        unsure = _suggest(client, "Someone could poison the data.", abstain_below=1.0)
        assert unsure["abstained"] is True
        assert unsure["suggested"] == []
        eager = _suggest(client, "Someone could poison the data.", threshold=0.0, top=3)
        # Every code passes a threshold of 0; no unit gets more codes than a training unit had.
        assert all(s["threshold"] == 0.0 for s in eager["suggestions"])  # type: ignore[attr-defined]
        assert eager["suggested"] == ["T.1"]
        proto = checked(
            client.post(
                "/v1/projects/p1/suggestions", json={"sentences": ["poison"], "method": "prototype"}
            )
        )
        assert (proto["method"], proto["cold_start"]) == ("prototype", False)

        metrics = client.get("/metrics").text
        assert f'intercoder_project_exemplars{{project="p1"}} {len(CODED_ROWS) + 1}.0' in metrics
        assert f'intercoder_suggestions_served_total{{method="{DEFAULT_METHOD}"}}' in metrics
        assert 'route="/v1/projects/{project_id}/suggestions"' in metrics


def test_transcript_upload_suggest_and_decide_on_stored_sentences(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        upload = client.post(
            "/v1/projects/p1/transcripts", files={"file": ("Interview 7.txt", TRANSCRIPT_TXT)}
        )
        assert upload.status_code == 201, upload.text
        assert upload.headers["location"] == "/v1/projects/p1/transcripts/Interview-7"
        stored = client.get("/v1/projects/p1/transcripts/Interview-7").json()
        texts = [s["text"] for s in stored["sentences"]]
        assert "Someone could poison the training data." in texts
        for sentence in stored["sentences"]:
            assert stored["text"][sentence["start"] : sentence["end"]] == sentence["text"]
        page = client.get("/v1/projects/p1/transcripts").json()
        assert [t["id"] for t in page["items"]] == ["Interview-7"]

        suggested = checked(
            client.post(
                "/v1/projects/p1/transcripts/Interview-7/suggestions",
                json={"offset": 1, "limit": 2},
            )
        )
        units = suggested["units"]
        assert [u["unit"]["sentence_index"] for u in units] == [1, 2]
        assert units[0]["unit"]["speaker"] == "P3"

        index = units[1]["unit"]["sentence_index"]
        first = _decide(
            client,
            {
                "action": "accept",
                "coder": "ana",
                "transcript_id": "Interview-7",
                "sentence_index": index,
                "suggested": units[1]["suggested"],
                "agent": suggested["agent"],
                "method": suggested["method"],
            },
        )
        second = _decide(
            client,
            {
                "action": "change",
                "coder": "ben",
                "transcript_id": "Interview-7",
                "sentence_index": index,
                "suggested": units[1]["suggested"],
                "codes": ["T.1", "P"],
            },
        )
        assert second["replaced_exemplar_id"] == first["exemplar_id"]
        rejected = _decide(
            client,
            {
                "action": "reject",
                "coder": "ana",
                "transcript_id": "Interview-7",
                "sentence_index": 0,
                "suggested": ["P"],
            },
        )
        assert rejected["exemplar_id"] is None
        log = client.get("/v1/projects/p1/decisions").json()["items"]
        assert [d["action"] for d in log] == ["accept", "change", "reject"]
        exemplar = client.get(f"/v1/projects/p1/exemplars/{second['exemplar_id']}").json()
        assert exemplar["origin"] == "decision"
        assert exemplar["codes"] == ["P", "T.1"]
        assert exemplar["previous_text"] == texts[index - 1]
        project = client.get("/v1/projects/p1").json()
        assert project["exemplar_count"] == project["index_exemplar_count"] == len(CODED_ROWS) + 1


def test_csv_import_export_round_trip_and_paging(tmp_path: Path) -> None:
    csv_text = "transcript_id,text,codes,coder\n" + "".join(
        f"{row['transcript_id']},{row['text']},{';'.join(row['codes'])},ana\n" for row in CODED_ROWS
    )
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        response = client.post(
            "/v1/projects/p1/exemplars/csv", files={"file": ("coded.csv", csv_text)}
        )
        assert response.status_code == 201, response.text
        seen, cursor = [], None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get("/v1/projects/p1/exemplars", params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == response.json()["ids"]
        export = client.get("/v1/projects/p1/codings.csv")
        assert export.headers["content-type"].startswith("text/csv")
        frame = read_coded_csv(io.StringIO(export.text), build_codebook(SMALL_CODEBOOK))
        assert sorted(frame["text"]) == sorted(row["text"] for row in CODED_ROWS)
        assert set(frame["coder"]) == {"ana"}


def test_codebook_versions_and_evaluation(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        first = client.get("/v1/projects/p1/codebook").json()["version"]
        bigger = {**SMALL_CODEBOOK, "codes": [*SMALL_CODEBOOK["codes"], {"id": "X", "name": "x"}]}
        replaced = client.put("/v1/projects/p1/codebook", json={"codebook": bigger})
        assert replaced.status_code == 200, replaced.text
        versions = client.get("/v1/projects/p1/codebook/versions").json()["items"]
        assert [v["version"] for v in versions] == [first, replaced.json()["version"]]
        assert [v["current"] for v in versions] == [False, True]
        old = client.get(f"/v1/projects/p1/codebook/versions/{first}").json()
        assert old["codebook"]["name"] == "Threats"
        assert len(old["codebook"]["codes"]) == 4

        report = client.post(
            "/v1/projects/p1/evaluations", json={"methods": ["knn", "majority"], "folds": 3}
        )
        assert report.status_code == 200, report.text
        body = report.json()
        assert [m["method"] for m in body["methods"]] == ["knn", "majority"]
        assert body["dataset"]["n_units"] == len(CODED_ROWS)
        assert body["folds"]["k"] == 3


def test_a_restart_keeps_everything(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    with running_service(settings) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        upload = client.post(
            "/v1/projects/p1/transcripts", files={"file": ("t9.txt", TRANSCRIPT_TXT)}
        )
        checked(upload, 201)
        decision = {"action": "change", "coder": "ana", "text": "odd one", "codes": ["T.2"]}
        checked(client.post("/v1/projects/p1/decisions", json=decision), 201)
        # A codebook that keeps every code the exemplars use, plus one: the store accepts it.
        bigger = {**SMALL_CODEBOOK, "codes": [*SMALL_CODEBOOK["codes"], {"id": "X", "name": "x"}]}
        replaced = checked(client.put("/v1/projects/p1/codebook", json={"codebook": bigger}))
        before = {
            path: checked(client.get(path))
            for path in (
                "/v1/projects/p1",
                "/v1/projects/p1/exemplars?limit=500",
                "/v1/projects/p1/decisions",
                "/v1/projects/p1/transcripts/t9",
                "/v1/projects/p1/codebook",
                "/v1/projects/p1/codebook/versions",
            )
        }
        assert before["/v1/projects/p1/codebook"]["version"] == replaced["version"]
        assert len(before["/v1/projects/p1/codebook/versions"]["items"]) == 2
        suggestion = _suggest(client, "Someone could poison the data.")
    index_state = settings.projects_dir / "p1" / "index-state.json"
    assert index_state.is_file()  # saved at shutdown
    with running_service(settings) as client:
        after = {path: checked(client.get(path)) for path in before}
        assert after == before
        assert _suggest(client, "Someone could poison the data.") == suggestion


@pytest.mark.slow
def test_the_real_model_serves_suggestions_over_http(tmp_path: Path) -> None:
    from service.app.runtime import build_encoder

    settings = service_settings(tmp_path / "data")
    with running_service(settings, encoder=build_encoder(settings)) as client:
        assert client.get("/readyz").json()["embedding_dim"] == 384
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        unit = _suggest(client, "An adversary might tamper with the data we train on.")
        assert unit["suggestions"][0]["code"] == "T.1"  # type: ignore[index]
        assert "all-MiniLM-L6-v2" in unit["suggestions"][0]["agent"]  # type: ignore[index]
