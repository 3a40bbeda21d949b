"""A project's saved index is used only when it agrees with the database; else it is rebuilt."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from models.testing import HashingEncoder
from service.settings import Settings
from service.store.project_index import INDEX_FOLDER, STATE_FILE
from tests.test_service_support import (
    CODED_ROWS,
    add_exemplars,
    checked,
    create_project,
    running_service,
    service_settings,
)


@pytest.fixture
def index_log() -> Iterator[list[str]]:
    """Messages of the index logger (the service's JSON logging does not reach caplog)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("intercoder.service.index")
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def _nearest_id(client: httpx.Client, text: str) -> int:
    unit = checked(
        client.post(
            "/v1/projects/p1/suggestions", json={"sentences": [text], "evidence": 20, "k": 20}
        )
    )["units"][0]
    evidence = [e for code in unit["suggestions"] for e in code["evidence"]]
    evidence += unit["no_code_evidence"]
    best: int = max(evidence, key=lambda e: e["similarity"])["exemplar_id"]
    return best


def _project_with_exemplars(settings: Settings) -> dict[str, int]:
    """Project p1 with the sample exemplars; returns exemplar id by text."""
    with running_service(settings) as client:
        create_project(client)
        added = add_exemplars(client, "p1", CODED_ROWS)
    return {row["text"]: id_ for row, id_ in zip(CODED_ROWS, added["ids"], strict=True)}


def _check_consistent(client: httpx.Client, ids_by_text: dict[str, int]) -> None:
    project = client.get("/v1/projects/p1").json()
    assert project["index_exemplar_count"] == project["exemplar_count"] == len(ids_by_text)
    for text, exemplar_id in list(ids_by_text.items())[:3]:
        assert _nearest_id(client, text) == exemplar_id


@pytest.mark.parametrize(
    "damage",
    ["corrupt faiss file", "missing index", "missing state", "older counter", "other project uid"],
)
def test_a_damaged_or_stale_index_is_rebuilt(
    tmp_path: Path, damage: str, index_log: list[str]
) -> None:
    settings = service_settings(tmp_path / "data")
    ids_by_text = _project_with_exemplars(settings)
    project_dir = settings.projects_dir / "p1"
    state_path = project_dir / STATE_FILE
    state = json.loads(state_path.read_text())
    if damage == "corrupt faiss file":
        (project_dir / INDEX_FOLDER / "index.faiss").write_bytes(b"garbage")
    elif damage == "missing index":
        for path in (project_dir / INDEX_FOLDER).iterdir():
            path.unlink()
    elif damage == "missing state":
        state_path.unlink()
    elif damage == "older counter":
        state_path.write_text(json.dumps({**state, "change_counter": state["change_counter"] - 1}))
    else:
        state_path.write_text(json.dumps({**state, "uid": "someone-else"}))
    with running_service(settings) as client:
        _check_consistent(client, ids_by_text)
    assert any("rebuilt the exemplar index" in message for message in index_log), index_log


def test_an_intact_index_is_loaded_not_rebuilt(tmp_path: Path, index_log: list[str]) -> None:
    settings = service_settings(tmp_path / "data")
    ids_by_text = _project_with_exemplars(settings)
    with running_service(settings) as client:
        _check_consistent(client, ids_by_text)
    assert index_log == []


def test_another_model_re_embeds_the_exemplars_and_rebuilds(
    tmp_path: Path, index_log: list[str]
) -> None:
    settings = service_settings(tmp_path / "data")
    ids_by_text = _project_with_exemplars(settings)
    other = HashingEncoder(dim=32, model_id="another-model")
    with running_service(settings, encoder=other) as client:
        _check_consistent(client, ids_by_text)
    assert any("another model" in message for message in index_log), index_log
    with sqlite3.connect(settings.database_path) as connection:
        rows = connection.execute("SELECT DISTINCT model_id, length(embedding) FROM exemplars")
        assert rows.fetchall() == [("another-model", 32 * 4)]


def test_stored_embeddings_are_float32_and_rebuild_the_index_exactly(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    ids_by_text = _project_with_exemplars(settings)
    encoder = HashingEncoder()
    with sqlite3.connect(settings.database_path) as connection:
        for text, exemplar_id in ids_by_text.items():
            (blob,) = connection.execute(
                "SELECT embedding FROM exemplars WHERE id = ?", (exemplar_id,)
            ).fetchone()
            stored = np.frombuffer(blob, dtype=np.float32)
            np.testing.assert_array_equal(stored, encoder.encode([text])[0])


def test_a_project_deleted_during_an_index_save_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The periodic save of a project's index is under way when the project is deleted: the
    deletion waits for it, so the save cannot write the folder again after its removal."""
    from service.store import project_index

    indexes = project_index.ProjectIndexes(tmp_path, model_id="m", dim=4)
    indexes.create("p", "uid-1")
    vectors = np.eye(4, dtype=np.float32)[:2]
    indexes.get("p").apply(1, np.array([1, 2], dtype=np.int64), vectors)
    saving, finish = threading.Event(), threading.Event()
    real_save = project_index.save

    def slow_save(*args: object) -> None:
        saving.set()
        finish.wait(timeout=30)
        real_save(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(project_index, "save", slow_save)
    saves: list[int] = []
    saver = threading.Thread(target=lambda: saves.append(indexes.save_changed()))
    saver.start()
    assert saving.wait(timeout=30)
    deleter = threading.Thread(target=indexes.drop, args=("p",))
    deleter.start()
    deleter.join(timeout=0.5)  # the deletion waits for the save ...
    finish.set()
    saver.join(timeout=30)
    deleter.join(timeout=30)
    assert saves == [1]
    assert not (tmp_path / "p").exists()  # ... and removes what it wrote
    assert indexes.save_changed() == 0
