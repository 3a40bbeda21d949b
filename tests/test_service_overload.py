"""Reads answer while the encoder is busy; beyond the queue the service answers 503 with
Retry-After at once, and everything answers again the moment the load drops."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from models.encoder import Embeddings
from models.testing import HashingEncoder
from tests.test_service_support import (
    CODED_ROWS,
    TRANSCRIPT_TXT,
    add_exemplars,
    create_project,
    running_service,
    service_settings,
)

READS = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/projects",
    "/v1/projects/p1",
    "/v1/projects/p1/codebook",
    "/v1/projects/p1/codebook/versions",
    "/v1/projects/p1/exemplars",
    "/v1/projects/p1/codings.csv",
    "/v1/projects/p1/transcripts",
    "/v1/projects/p1/transcripts/interview",
    "/v1/projects/p1/decisions",
    "/v1/projects/p1/batches",
]


class BlockingEncoder(HashingEncoder):
    """Every encode waits while ``blocked`` is set (bounded, so a failing test cannot hang)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()

    def encode(self, texts: list[str]) -> Embeddings:
        if not self.open.is_set():
            self.entered.set()
        self.open.wait(timeout=60)
        return super().encode(texts)


@contextmanager
def blocked(encoder: BlockingEncoder) -> Iterator[None]:
    encoder.open.clear()
    encoder.entered.clear()
    try:
        yield
    finally:
        encoder.open.set()


def _seeded(client: httpx.Client) -> None:
    create_project(client)
    add_exemplars(client, "p1", CODED_ROWS)
    files = {"file": ("interview.txt", TRANSCRIPT_TXT.encode(), "text/plain")}
    uploaded = client.post("/v1/projects/p1/transcripts", files=files)
    assert uploaded.status_code == 201, uploaded.text


def _suggest(base_url: str, text: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=90) as client:
        return client.post("/v1/projects/p1/suggestions", json={"sentences": [text]})


def _waiting(client: httpx.Client) -> float:
    found = re.search(r"^intercoder_requests_waiting (\S+)", client.get("/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


def _until_waiting(client: httpx.Client, count: int) -> None:
    deadline = time.monotonic() + 30
    while _waiting(client) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_reads_answer_while_the_encoder_and_a_projects_first_fit_are_blocked(
    tmp_path: Path,
) -> None:
    encoder = BlockingEncoder()
    with running_service(service_settings(tmp_path / "data"), encoder=encoder) as client:
        _seeded(client)
        base_url = str(client.base_url)
        with ThreadPoolExecutor(2) as pool, blocked(encoder):
            # The project's first suggestion fits its coder under the project's lock, and the
            # fit embeds the codebook: both the encoder and the fit lock are now held.
            stuck = pool.submit(_suggest, base_url, "does anyone poison data")
            assert encoder.entered.wait(timeout=30)
            with httpx.Client(base_url=base_url, timeout=10) as reader:
                statuses = {path: reader.get(path).status_code for path in READS}
            assert not stuck.done()
        assert stuck.result(timeout=60).status_code == 200
    assert statuses == dict.fromkeys(READS, 200)


def test_beyond_the_queue_the_service_answers_503_with_retry_after_and_recovers(
    tmp_path: Path,
) -> None:
    encoder = BlockingEncoder()
    settings = service_settings(tmp_path / "data", max_active_requests=1, max_queued_requests=2)
    with running_service(settings, encoder=encoder) as client:
        _seeded(client)
        base_url = str(client.base_url)
        admitted: list[Future[httpx.Response]] = []
        with ThreadPoolExecutor(3) as pool, blocked(encoder):
            admitted.append(pool.submit(_suggest, base_url, "the one running"))
            assert encoder.entered.wait(timeout=30)
            admitted += [pool.submit(_suggest, base_url, f"queued {i}") for i in range(2)]
            _until_waiting(client, 2)
            refused = [_suggest(base_url, f"one too many {i}") for i in range(3)]
            refused_write = client.post(
                "/v1/projects/p1/exemplars",
                json={"exemplars": [{"transcript_id": "t9", "text": "late", "codes": ["P"]}]},
            )
            read_meanwhile = client.get("/v1/projects/p1")
        answered = [future.result(timeout=60) for future in admitted]
        after = [_suggest(base_url, f"after the load {i}") for i in range(3)]
        metrics = client.get("/metrics").text

    assert [r.status_code for r in answered] == [200, 200, 200], [r.text for r in answered]
    for response in [*refused, refused_write]:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Service overloaded"
        assert "try again" in response.json()["detail"]
    assert read_meanwhile.status_code == 200
    assert [response.status_code for response in after] == [200, 200, 200]
    assert re.search(r"^intercoder_requests_refused_overloaded_total 4.0$", metrics, re.M)
