"""Faults of the disk and the data directory, in process: a full disk is a 507 problem that
stores nothing and passes once space returns; a damaged, newer or read-only database and a
missing or wrong model stop ``intercoder serve`` with one ``error:`` line; a damaged embedding
cache is set aside, a locked one skipped and left alone. The same faults against real server
processes: test_reliability_faults."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from models.cache import CachedEncoder, EmbeddingCache
from models.testing import HashingEncoder
from service.api.main import create_app
from service.cli.main import app as cli
from service.errors import StorageFullError, StoreError, storage_full_error
from service.store.database import Store
from service.store.project_index import ProjectIndexes
from service.store.projects import all_projects
from tests.reliability.disks import FaultUnavailableError, read_only
from tests.test_service_support import SMALL_CODEBOOK, service_settings

runner = CliRunner()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_out_of_space_os_errors_are_storage_full(code: int) -> None:
    found = storage_full_error(OSError(code, "no room"))
    assert isinstance(found, StorageFullError)
    assert "no restart needed" in str(found)


def test_other_errors_are_not_storage_full() -> None:
    assert storage_full_error(OSError(errno.EACCES, "denied")) is None
    assert storage_full_error(sqlite3.OperationalError("database is locked")) is None
    assert storage_full_error(ValueError("no")) is None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "intercoder.sqlite3")
    yield opened
    opened.close()


def _insert_project(store: Store, project_id: str) -> None:
    with store.write() as transaction:
        transaction.connection.execute(
            "INSERT INTO projects (id, name, uid, created_at) VALUES (?, ?, 'u', 'now')",
            (project_id, "x" * 20_000),
        )


def test_a_full_database_stores_nothing_and_writes_again_when_space_returns(
    store: Store,
) -> None:
    _insert_project(store, "kept")
    # SQLite's own page limit gives the very SQLITE_FULL a full disk does, without root.
    pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
    store._writer.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageFullError, match="storage is full"):
        _insert_project(store, "refused")
    store._writer.execute("PRAGMA max_page_count = 1073741823")
    _insert_project(store, "after")
    with store.read() as connection:
        assert [project.id for project in all_projects(connection)] == ["after", "kept"]


def test_a_full_disk_anywhere_in_a_request_is_a_507_problem(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path / "data"), encoder=HashingEncoder())

    def nowhere_to_write() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    app.add_api_route("/full", nowhere_to_write)
    with TestClient(app) as client:
        response = client.get("/full")
    assert response.status_code == 507
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Insufficient storage"
    assert "Free space on the disk" in response.json()["detail"]


def _serve(data_dir: Path, *env: tuple[str, str]) -> tuple[int, str]:
    """``intercoder serve`` in process; it must stop before uvicorn ever starts."""
    result = runner.invoke(cli, ["--data-dir", str(data_dir), "serve"], env=dict(env))
    return result.exit_code, result.output


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with a project in its database."""
    settings = service_settings(tmp_path / "data")
    with TestClient(create_app(settings, encoder=HashingEncoder())) as client:
        created = client.post("/v1/projects", json={"id": "p1", "codebook": SMALL_CODEBOOK})
        assert created.status_code == 201, created.text
    return settings.data_dir


def _one_error_line(output: str, *expected: str) -> None:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    assert "Traceback" not in output
    for part in expected:
        assert part in lines[0]


HASHING = ("INTERCODER_TEST_ENCODER", "hashing")


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda path: path.write_bytes(b"\0garbage" * 4096), "file is not a database"),
        (lambda path: path.write_bytes(path.read_bytes()[:5000]), "malformed"),
    ],
    ids=["garbage", "truncated"],
)
def test_a_damaged_database_stops_serve_in_one_line(
    data_dir: Path, damage: Callable[[Path], object], says: str
) -> None:
    database = data_dir / "intercoder.sqlite3"
    damage(database)
    status, output = _serve(data_dir, HASHING)
    assert status == 2
    _one_error_line(output, str(database), says, "restore")


def test_a_database_of_a_newer_schema_stops_serve_in_one_line(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "intercoder.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 99")
    status, output = _serve(data_dir, HASHING)
    assert status == 2
    _one_error_line(output, "schema version 99, newer than", "upgrade intercoder")


@pytest.mark.parametrize("target", ["", "intercoder.sqlite3"], ids=["folder", "file"])
def test_a_read_only_data_directory_or_database_stops_serve_in_one_line(
    data_dir: Path, target: str
) -> None:
    try:
        with read_only(data_dir / target if target else data_dir) as path:
            status, output = _serve(data_dir, HASHING)
    except FaultUnavailableError as why:  # root without the right to mount
        pytest.skip(f"cannot make the folder read-only here: {why}")
    assert status == 2
    _one_error_line(output, str(path), "read-only", "make it writable")


def test_a_missing_model_stops_serve_in_one_line(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    status, output = _serve(data_dir, ("INTERCODER_MODEL_PATH", str(missing)))
    assert status == 2
    _one_error_line(output, f"model folder {missing} does not exist")


def test_a_model_failing_its_sha256_stops_serve_in_one_line(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"other weights")
    status, output = _serve(
        data_dir, ("INTERCODER_MODEL_PATH", str(model)), ("INTERCODER_MODEL_SHA256", "0" * 64)
    )
    assert status == 2
    _one_error_line(output, f"the weights in {model} have sha256", "expected " + "0" * 64)


def test_an_unreadable_embedding_cache_is_set_aside_and_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"\x01not sqlite" * 1000)
    cache = EmbeddingCache(path)
    try:
        vectors = HashingEncoder().encode(["a sentence"])
        cache.put_many("m", ["a sentence"], vectors)
        assert cache.count("m") == 1
    finally:
        cache.close()
    assert (tmp_path / "embeddings.sqlite.unreadable").read_bytes().startswith(b"\x01not sqlite")


def test_a_store_that_cannot_be_opened_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "intercoder.sqlite3"
    path.write_bytes(b"junk" * 10_000)
    with pytest.raises(StoreError) as raised:
        Store(path)
    assert "\n" not in str(raised.value)


def test_an_index_save_that_fails_is_logged_and_tried_again_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    indexes = ProjectIndexes(tmp_path / "projects", model_id="m", dim=4)
    indexes.create("p1", "uid")
    vectors = np.eye(4, dtype=np.float32)[:2]
    indexes.get("p1").apply(1, np.array([1, 2], dtype=np.int64), vectors)
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "p1").write_text("a file where the index folder goes")
    with caplog.at_level(logging.WARNING, logger="intercoder.service.index"):
        assert indexes.save_changed() == 0
    assert "could not save the exemplar index of project p1" in caplog.text
    assert "Traceback" not in caplog.text
    (tmp_path / "projects" / "p1").unlink()
    assert indexes.save_changed() == 1  # the next round saves what the failed one could not


def test_a_locked_embedding_cache_is_skipped_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Locked (another user's long write), read-only or full is no damage: the file, its WAL
    and shared memory stay, and the work goes on without the cache."""
    path = tmp_path / "embeddings.sqlite"
    EmbeddingCache(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        files_before = sorted(child.name for child in tmp_path.iterdir())
        with caplog.at_level(logging.WARNING, logger="intercoder.models.cache"):
            cache = EmbeddingCache(path)
        encoder = CachedEncoder(HashingEncoder(), cache)
        vectors = encoder.encode(["a sentence", "another"])
        assert vectors.shape == (2, HashingEncoder().dim)
        assert encoder.texts_encoded == 2
        assert cache.count() == 0
        cache.close()
        assert sorted(child.name for child in tmp_path.iterdir()) == files_before
        assert "going on without it" in caplog.text
    finally:
        holder.close()
