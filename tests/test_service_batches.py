"""Batch runs in the service: start, poll, download; the same rows as the command line and as
the per-transcript suggestions; trust verdicts from the last evaluation; resumed after a stop."""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from eval.agreement_common import NO_CODE
from eval.trust import TRUST_KINDS
from models.encoder import Embeddings
from models.testing import HashingEncoder
from service.api.main import create_app
from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    TRANSCRIPT_TXT,
    add_exemplars,
    checked,
    create_project,
    running_service,
    serve_in_thread,
    service_settings,
)

SECOND_TXT = (
    "Interviewer: Anything else?\n"
    "P4: Crafted inputs could fool our classifier. We deploy weekly.\n"
    "Interviewer: Thanks for joining.\n"
)


def _upload(client: httpx.Client, name: str, text: str) -> None:
    response = client.post("/v1/projects/p1/transcripts", files={"file": (name, text)})
    assert response.status_code == 201, response.text


def _set_up(client: httpx.Client) -> None:
    create_project(client)
    add_exemplars(client, "p1", CODED_ROWS)
    _upload(client, "first.txt", TRANSCRIPT_TXT)
    _upload(client, "second.txt", SECOND_TXT)


def _finished(client: httpx.Client, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(location)
        assert response.status_code == 200, response.text
        batch: dict[str, Any] = response.json()
        if batch["state"] in ("done", "failed"):
            return batch
        time.sleep(0.05)
    raise AssertionError(f"batch {location} did not finish in 60 s")


def _start(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/projects/p1/batches", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(response.json()["id"])
    return _finished(client, response.headers["location"])


def test_a_batch_codes_every_stored_sentence_as_suggestions_do(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        _set_up(client)
        batch = _start(client, {"skip_speakers": []})
        assert batch["state"] == "done", batch["error"]
        assert batch["transcripts_done"] == batch["transcripts_total"] == 2
        result = client.get(batch["result_url"])
        assert result.status_code == 200, result.text
        assert result.headers["content-type"] == "application/vnd.apache.parquet"
        rows = pd.read_parquet(io.BytesIO(result.content))
        assert batch["summary"]["sentences"] == len(rows) == batch["sentences_done"]
        codable = {code["id"] for code in SMALL_CODEBOOK["codes"] if code.get("codable", True)}
        assert batch["summary"]["trust"] == dict.fromkeys(codable, "not_evaluated")
        assert batch["summary"]["trust_counts"]["not_evaluated"] == len(codable)
        for transcript_id in ("first", "second"):
            answer = checked(
                client.post(
                    f"/v1/projects/p1/transcripts/{transcript_id}/suggestions",
                    json={"skip_speakers": []},
                )
            )
            got = rows[rows["transcript_id"] == transcript_id].sort_values("sentence")
            assert [list(codes) for codes in got["codes"]] == [
                u["suggested"] for u in answer["units"]
            ]
            assert [list(s) for s in got["top_codes"]] == [
                [code["code"] for code in u["suggestions"]] for u in answer["units"]
            ]
        listed = client.get("/v1/projects/p1/batches").json()
        assert [item["id"] for item in listed] == [batch["id"]]


def test_the_command_line_codes_a_project_as_the_service_does(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_service(service_settings(data)) as client:
        _set_up(client)
        batch = _start(client, {"format": "csv"})
        service_rows = pd.read_csv(io.BytesIO(client.get(batch["result_url"]).content))
    files = tmp_path / "files"
    files.mkdir()
    (files / "first.txt").write_text(TRANSCRIPT_TXT)
    (files / "second.txt").write_text(SECOND_TXT)
    env = {**os.environ, "INTERCODER_DATA_DIR": str(data), "INTERCODER_TEST_ENCODER": "hashing"}
    command = [sys.executable, "-m", "service.cli.main", "code", str(files), "--project", "p1",
               "--out", str(tmp_path / "out"), "--format", "csv", "--quiet"]  # fmt: skip
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    cli_rows = pd.read_csv(tmp_path / "out" / "coded.csv")
    columns = ["transcript_id", "sentence", "text", "codes", "top_scores", "evidence_ids"]
    pd.testing.assert_frame_equal(cli_rows[columns], service_rows[columns])


def test_trust_verdicts_come_from_the_last_evaluation(tmp_path: Path) -> None:
    rows = [{**row, "transcript_id": f"t{i % 4}"} for i, row in enumerate(CODED_ROWS * 3)]
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        add_exemplars(
            client, "p1", [{**r, "text": f"{r['text']} ({i})"} for i, r in enumerate(rows)]
        )
        _upload(client, "first.txt", TRANSCRIPT_TXT)
        response = client.post("/v1/projects/p1/evaluations", json={"folds": 2})
        assert response.status_code == 200, response.text
        batch = _start(client, {})
    (linear,) = [result for result in response.json()["methods"] if result["method"] == "linear"]
    trust = batch["summary"]["trust"]
    codes = [row for row in linear["per_code"] if row["code"] != NO_CODE]  # summaries: codes only
    assert trust == {row["code"]: row["trust"]["kind"] for row in codes}
    assert batch["summary"]["trust_counts"] == {
        kind: list(trust.values()).count(kind) for kind in TRUST_KINDS
    }


def test_mistakes_get_problems_and_a_running_batch_no_result(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    with running_service(settings) as client:
        _set_up(client)
        unknown = client.post("/v1/projects/p1/batches", json={"transcript_ids": ["nope"]})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        speakers = client.post("/v1/projects/p1/batches", json={"code_speakers": ["Nobody"]})
        assert speakers.status_code == 422, speakers.text
        assert client.get("/v1/projects/p1/batches/" + "0" * 32).status_code == 404
        assert client.get("/v1/projects/nope/batches").status_code == 404
        queued = _insert_batch(settings.database_path, "queued")
        early = client.get(f"/v1/projects/p1/batches/{queued}/result")
        assert early.status_code == 409
        assert "poll" in early.json()["detail"]


def test_a_batch_left_unfinished_resumes_when_the_service_starts(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    with running_service(settings) as client:
        _set_up(client)
    left = _insert_batch(settings.database_path, "running")
    with running_service(settings) as client:
        batch = _finished(client, f"/v1/projects/p1/batches/{left}")
        assert batch["state"] == "done", batch["error"]
        assert batch["summary"]["transcripts"] == 2
        folder = settings.data_dir / "batches" / "p1" / left
        assert folder.is_dir()
        assert client.delete("/v1/projects/p1").status_code == 204
        assert not folder.exists()


def _insert_batch(database: Path, state: str) -> str:
    """A batch row as a stopped service leaves it (queued or running, nothing run yet)."""
    batch_id = "ab" * 16
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO batches (id, project_id, state, request, created_at) VALUES "
            "(?, 'p1', ?, ?, '2026-01-01T00:00:00Z')",
            (batch_id, state, '{"transcript_ids": null, "method": "linear", "top": 5, '
             '"abstain_below": 0.0, "speakers": null, "skip_speakers": null, '
             '"output_format": "parquet"}'),
        )  # fmt: skip
    return batch_id


def test_a_crash_between_a_projects_deletion_and_its_cleanup_leaves_no_results(
    tmp_path: Path,
) -> None:
    """The deletion committed, then the process died before removing the project's files (as
    a kill -9 there does): the next start removes them, and keeps a live project's."""
    settings = service_settings(tmp_path / "data")
    with running_service(settings) as client:
        _set_up(client)
        create_project(client, "p2")
        done = _start(client, {})
        assert done["state"] == "done", done["error"]
    kept = settings.data_dir / "batches" / "p1" / done["id"]
    assert kept.is_dir()
    left = settings.data_dir / "batches" / "p2" / ("cd" * 16)
    left.mkdir(parents=True)
    (left / "result.parquet").write_bytes(b"the coded sentences of a deleted project")
    with sqlite3.connect(settings.database_path) as connection:  # the deletion's commit alone
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("DELETE FROM projects WHERE id = 'p2'")
    with running_service(settings) as client:
        assert checked(client.get("/v1/projects/p1/batches"))
    assert not (settings.data_dir / "batches" / "p2").exists()
    assert kept.is_dir()


class _HeldEncoder(HashingEncoder):
    """The hashing encoder, made to wait inside ``encode`` while ``hold`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.waiting = threading.Event()
        self.release = threading.Event()

    def encode(self, texts: list[str]) -> Embeddings:
        if self.hold:
            self.waiting.set()
            self.release.wait(timeout=60)
        return super().encode(texts)


@pytest.fixture
def batch_errors() -> Iterator[list[str]]:
    """Errors the batch worker logs (the service's JSON logging does not reach caplog)."""
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())

    handler = Collect(level=logging.ERROR)
    logger = logging.getLogger("intercoder.service.batches")
    logger.addHandler(handler)
    yield errors
    logger.removeHandler(handler)


def test_a_project_deleted_while_its_batch_runs_leaves_no_results_and_no_error(
    tmp_path: Path, batch_errors: list[str]
) -> None:
    """The deletion removes the project's batch folder while its batch is coding; whatever the
    batch writes after that (its journal, a part) must go too, and nothing is logged as an
    error: the batch stops because its project is gone."""
    settings = service_settings(tmp_path / "data")
    encoder = _HeldEncoder()
    app = create_app(settings, encoder=encoder)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        _set_up(client)
        encoder.hold = True
        checked(client.post("/v1/projects/p1/batches", json={}), 202)
        assert encoder.waiting.wait(timeout=60), "the batch never reached the encoder"
        assert client.delete("/v1/projects/p1").status_code == 204
        encoder.hold = False
        encoder.release.set()
        worker_done = threading.Event()
        app.state.service.batches.submit(worker_done.set)  # runs after the batch, in turn
        assert worker_done.wait(timeout=60)
    assert not (settings.data_dir / "batches" / "p1").exists()
    assert batch_errors == []


def test_a_restored_service_says_how_to_get_a_batch_result_it_does_not_have(
    tmp_path: Path,
) -> None:
    """A backup holds the database only: a batch done before it is 'done' after a restore
    into another data folder, but its result files stayed behind."""
    from service.app.backup import backup_database, restore_database

    settings = service_settings(tmp_path / "data")
    with running_service(settings) as client:
        _set_up(client)
        batch = _start(client, {"format": "csv"})
        assert batch["state"] == "done", batch["error"]
    backup_database(settings, tmp_path / "backup.sqlite3")
    elsewhere = service_settings(tmp_path / "restored")
    restore_database(elsewhere, tmp_path / "backup.sqlite3")
    with running_service(elsewhere) as client:
        missing = client.get(f"/v1/projects/p1/batches/{batch['id']}/result")
        assert missing.status_code == 409, missing.text
        assert missing.headers["content-type"] == "application/problem+json"
        assert "not on this machine" in missing.json()["detail"]
        assert "run the batch again" in missing.json()["detail"]
        again = _start(client, {"format": "csv"})
        assert again["state"] == "done", again["error"]
        result = client.get(f"/v1/projects/p1/batches/{again['id']}/result")
        assert result.status_code == 200, result.text
