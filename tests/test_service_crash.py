"""Crash safety: every acknowledged write survives ``kill -9``, and the index follows the database.

A server subprocess takes a stream of writes from several clients (exemplar batches, decisions,
deletions) and is killed with SIGKILL mid-stream; no shutdown code runs. After a restart every
write the server acknowledged must be there, every acknowledged deletion must stay deleted, each
batch must be all there or not at all, and the index must hold exactly the database's exemplars.
Three rounds on the same data directory, then a graceful stop whose saved index is checked on
disk against the database.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest

from models.index import ExemplarIndex
from service.store.project_index import INDEX_FOLDER, STATE_FILE
from tests.test_service_support import SMALL_CODEBOOK, ServerProcess

WRITERS = 4
ROUNDS = 3


@dataclass
class Acknowledged:
    """What the server said it stored or deleted, and every batch it was sent."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    texts_by_id: dict[int, str] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    delete_sent: set[int] = field(default_factory=set)
    batches: list[list[str]] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    """5xx answers: the writers only collect them; the test asserts there are none."""


def _stream_writes(
    url: str, writer: int, round_: int, stop: threading.Event, seen: Acknowledged
) -> None:
    rng = random.Random(writer * 100 + round_)
    mine: list[int] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for step in range(10_000):  # bounded; the kill ends it long before
            if stop.is_set():
                return
            texts = [f"r{round_} w{writer} s{step} poison {i}" for i in range(3)]
            with seen.lock:
                seen.batches.append(texts)
            try:
                response = _one_write(client, rng, texts, mine, seen)
            except httpx.TransportError:
                return  # the server is gone
            _record(seen, response, texts, mine)


def _one_write(
    client: httpx.Client, rng: random.Random, texts: list[str], mine: list[int], seen: Acknowledged
) -> httpx.Response:
    choice = rng.random()
    if choice < 0.15 and mine:
        victim = mine.pop(rng.randrange(len(mine)))
        with seen.lock:
            seen.delete_sent.add(victim)  # it may go through unacknowledged if the kill lands
        response = client.delete(f"/v1/projects/p1/exemplars/{victim}")
        response.extensions["deleted"] = victim
        return response
    if choice < 0.35:
        body = {"action": "change", "coder": "c", "text": texts[0], "codes": ["T.2"]}
        return client.post("/v1/projects/p1/decisions", json=body)
    rows = [{"transcript_id": "crash", "text": t, "codes": ["T.1"]} for t in texts]
    return client.post("/v1/projects/p1/exemplars", json={"exemplars": rows})


def _record(
    seen: Acknowledged, response: httpx.Response, texts: list[str], mine: list[int]
) -> None:
    with seen.lock:
        if response.status_code >= 500:
            seen.server_errors.append(f"{response.status_code} {response.text[:300]}")
        elif "deleted" in response.extensions and response.status_code == 204:
            seen.deleted.add(response.extensions["deleted"])
        elif response.status_code == 201 and "ids" in response.json():
            ids = response.json()["ids"]
            seen.texts_by_id.update(zip(ids, texts, strict=True))
            mine.extend(ids)
        elif response.status_code == 201:
            exemplar_id = response.json()["exemplar_id"]
            seen.texts_by_id[exemplar_id] = texts[0]
            mine.append(exemplar_id)


def _database_exemplars(data_dir: Path) -> dict[int, str]:
    with sqlite3.connect(data_dir / "intercoder.sqlite3") as connection:
        rows = connection.execute("SELECT id, text FROM exemplars WHERE project_id = 'p1'")
        return {int(row[0]): str(row[1]) for row in rows}


def _check_after_restart(server: ServerProcess, seen: Acknowledged) -> None:
    stored = _database_exemplars(server.data_dir)
    # An exemplar sent for deletion may be gone even unacknowledged: the kill can land between
    # the commit and the response.
    missing = {
        i: t for i, t in seen.texts_by_id.items() if i not in seen.delete_sent and i not in stored
    }
    assert not missing, f"acknowledged but lost: {list(missing.items())[:5]}"
    assert not seen.deleted & set(stored), "acknowledged deletions came back"
    for exemplar_id, text in seen.texts_by_id.items():
        if exemplar_id in stored:
            assert stored[exemplar_id] == text
    texts = set(stored.values())
    maybe_deleted = {seen.texts_by_id.get(i) for i in seen.delete_sent}
    for batch in seen.batches:
        # texts[0] may also be a decision's; a text sent for deletion may be gone either way.
        present = [text in texts for text in batch[1:] if text not in maybe_deleted]
        assert all(present) or not any(present), f"half a batch stored: {batch}"
    answer = httpx.get(f"{server.url}/v1/projects/p1", timeout=30)
    assert answer.status_code == 200, answer.text
    project = answer.json()
    assert project["exemplar_count"] == len(stored)
    assert project["index_exemplar_count"] == len(stored)
    sample = random.Random(0).sample(sorted(stored), k=min(5, len(stored)))
    for exemplar_id in sample:  # the index returns each stored text as its own nearest neighbour
        response = httpx.post(
            f"{server.url}/v1/projects/p1/suggestions",
            json={"sentences": [stored[exemplar_id]], "top": 3, "evidence": 20, "k": 50},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        units = response.json()["units"]
        evidence = [e for code in units[0]["suggestions"] for e in code["evidence"]]
        best = max(evidence, key=lambda e: e["similarity"])
        assert best["similarity"] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    seen = Acknowledged()
    server.start()
    try:
        created = httpx.post(
            f"{server.url}/v1/projects", json={"id": "p1", "codebook": SMALL_CODEBOOK}, timeout=30
        )
        assert created.status_code == 201, created.text
        for round_ in range(ROUNDS):
            stop = threading.Event()
            writers = [
                threading.Thread(target=_stream_writes, args=(server.url, w, round_, stop, seen))
                for w in range(WRITERS)
            ]
            for thread in writers:
                thread.start()
            time.sleep(1.0 + 0.5 * round_)  # kill at a different point of the stream each round
            server.kill()
            stop.set()
            for thread in writers:
                thread.join(timeout=30)
            assert not [thread for thread in writers if thread.is_alive()]
            assert seen.server_errors == []
            server.start()
            _check_after_restart(server, seen)
        assert len(seen.texts_by_id) > 30, "too few writes were acknowledged to test anything"
    finally:
        server.stop()
    _check_saved_index(server.data_dir)


def _check_saved_index(data_dir: Path) -> None:
    """After a graceful stop the saved index holds exactly the database's exemplars."""
    project_dir = data_dir / "projects" / "p1"
    index = ExemplarIndex.load(project_dir / INDEX_FOLDER, expected_model_id="test-hashing-encoder")
    stored = _database_exemplars(data_dir)
    assert np.array_equal(index.ids(), np.array(sorted(stored), dtype=np.int64))
    with sqlite3.connect(data_dir / "intercoder.sqlite3") as connection:
        counter = connection.execute("SELECT change_counter FROM projects").fetchone()[0]
    assert f'"change_counter": {counter}' in (project_dir / STATE_FILE).read_text()
