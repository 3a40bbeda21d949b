"""``intercoder backup`` and ``restore``, and opening a database of the previous release.

The backup under a real server's write load, and a service started on the restored copy, are
in test_backup_live.py (slow).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import service.app.backup as backup_module
from models.testing import HashingEncoder
from service.api.main import create_app
from service.app.backup import backup_database, restore_database, summarise
from service.cli.main import app as cli
from service.errors import BackupError
from service.settings import Settings
from service.store.database import Store, lock_path
from service.store.locks import hold_lock
from service.store.schema import SCHEMA_VERSION
from tests.conftest import REPO_ROOT
from tests.test_service_support import CODED_ROWS, SMALL_CODEBOOK, service_settings

V1_FIXTURE = REPO_ROOT / "tests" / "fixtures" / "intercoder-v1.sqlite3"
runner = CliRunner()


def _stored(settings: Settings, project_id: str = "p1", rows: int = len(CODED_ROWS)) -> None:
    with TestClient(create_app(settings, encoder=HashingEncoder())) as client:
        created = client.post("/v1/projects", json={"id": project_id, "codebook": SMALL_CODEBOOK})
        assert created.status_code == 201, created.text
        body = {"exemplars": CODED_ROWS[:rows]}
        added = client.post(f"/v1/projects/{project_id}/exemplars", json=body)
        assert added.status_code == 201, added.text


def _texts(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT text FROM exemplars ORDER BY id")]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    chosen = service_settings(tmp_path / "data")
    _stored(chosen)
    return chosen


def test_a_backup_is_one_checked_file_with_every_row(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "backup.sqlite3"
    summary = backup_database(settings, target)
    assert (summary.projects, summary.exemplars) == (1, len(CODED_ROWS))
    assert summary.schema_version == SCHEMA_VERSION
    assert _texts(target) == [row["text"] for row in CODED_ROWS]
    assert sorted(path.name for path in tmp_path.iterdir() if "backup" in path.name) == [
        "backup.sqlite3"
    ]  # no WAL, journal or partial file beside it
    with sqlite3.connect(target) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_backup_never_overwrites_and_needs_a_database(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "backup.sqlite3"
    target.write_text("an older backup")
    with pytest.raises(BackupError, match="already exists"):
        backup_database(settings, target)
    assert target.read_text() == "an older backup"
    empty = service_settings(tmp_path / "nothing-here")
    with pytest.raises(BackupError, match="there is no database"):
        backup_database(empty, tmp_path / "other.sqlite3")


def test_restore_swaps_the_database_and_keeps_the_old_one(
    settings: Settings, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.sqlite3"
    backup_database(settings, backup)
    other = service_settings(tmp_path / "other")
    _stored(other, "elsewhere", rows=2)
    report = restore_database(other, backup)
    assert report.restored.exemplars == len(CODED_ROWS)
    assert report.previous_kept_as is not None
    assert _texts(report.previous_kept_as) == [row["text"] for row in CODED_ROWS[:2]]
    assert _texts(other.database_path) == [row["text"] for row in CODED_ROWS]
    assert not other.projects_dir.exists()  # the old indexes: rebuilt from the new database
    with TestClient(create_app(other, encoder=HashingEncoder())) as client:
        project = client.get("/v1/projects/p1").json()
        assert (project["exemplar_count"], project["index_exemplar_count"]) == (8, 8)
        assert client.get("/v1/projects/elsewhere").status_code == 404


def _not_intercoder(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")


def _newer(path: Path) -> None:
    shutil.copy(V1_FIXTURE, path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


def _damaged(path: Path) -> None:
    shutil.copy(V1_FIXTURE, path)
    content = bytearray(path.read_bytes())
    content[4096 * 3 : 4096 * 3 + 200] = b"\xff" * 200  # a b-tree page of a table
    path.write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: path.write_text("hello"), "not a readable SQLite database"),
        (_not_intercoder, "not an intercoder database"),
        (_newer, f"schema version {SCHEMA_VERSION + 1}"),
        (_damaged, "malformed|damaged"),
    ],
    ids=["text", "other-sqlite", "newer", "damaged"],
)
def test_restore_refuses_what_it_cannot_open_and_replaces_nothing(
    settings: Settings, tmp_path: Path, make: Callable[[Path], object], says: str
) -> None:
    candidate = tmp_path / "candidate.sqlite3"
    make(candidate)
    before = _texts(settings.database_path)
    with pytest.raises(BackupError, match=says):
        restore_database(settings, candidate)
    assert _texts(settings.database_path) == before
    assert not list(settings.data_dir.glob("*before-restore*"))


def test_restore_refuses_while_the_database_is_open(settings: Settings, tmp_path: Path) -> None:
    backup = tmp_path / "backup.sqlite3"
    backup_database(settings, backup)
    store = Store(settings.database_path)  # as a running service holds it
    try:
        with pytest.raises(BackupError, match="stop it"):
            restore_database(settings, backup)
    finally:
        store.close()
    restore_database(settings, backup)  # stopped: now it goes ahead


def test_the_commands_report_in_one_line(settings: Settings, tmp_path: Path) -> None:
    data = ["--data-dir", str(settings.data_dir)]
    target = tmp_path / "backup.sqlite3"
    made = runner.invoke(cli, [*data, "backup", "--to", str(target)])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("backed up 1 project(s), 8 exemplar(s), schema version")
    again = runner.invoke(cli, [*data, "backup", "--to", str(target)])
    assert again.exit_code == 2
    assert again.stderr.strip() == (
        f"error: {target} already exists; give a new file name, backups never overwrite"
    )
    restored = runner.invoke(cli, [*data, "restore", str(target)])
    assert restored.exit_code == 0, restored.output
    assert "the previous database is kept as" in restored.stdout
    refused = runner.invoke(cli, [*data, "restore", str(REPO_ROOT / "README.md")])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: ")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_database_of_the_previous_release_opens_migrated_with_its_content(
    tmp_path: Path,
) -> None:
    """tests/fixtures/intercoder-v1.sqlite3 was written by release schema v1 (commit 744da87^)
    through its own HTTP API; see tests/fixtures/README.md."""
    settings = service_settings(tmp_path / "data")
    settings.data_dir.mkdir()
    shutil.copy(V1_FIXTURE, settings.database_path)
    assert summarise(settings.database_path).schema_version == 1
    with TestClient(create_app(settings, encoder=HashingEncoder())) as client:
        project = client.get("/v1/projects/study-1").json()
        assert (project["name"], project["exemplar_count"]) == ("Threat study", 9)
        assert project["index_exemplar_count"] == 9
        decisions = client.get("/v1/projects/study-1/decisions").json()["items"]
        assert [(d["action"], d["coder"]) for d in decisions] == [
            ("change", "ana"),
            ("reject", "ben"),
        ]
        transcript = client.get("/v1/projects/study-1/transcripts/interview-3").json()
        assert len(transcript["sentences"]) == 4
        suggested = client.post(
            "/v1/projects/study-1/suggestions", json={"sentences": ["We retrain every week."]}
        )
        assert suggested.status_code == 200, suggested.text
        assert suggested.json()["exemplar_count"] == 9
        batches = client.get("/v1/projects/study-1/batches")  # a table schema v2 added
        assert batches.status_code == 200, batches.text
    assert summarise(settings.database_path).schema_version == SCHEMA_VERSION


def test_restore_replaces_a_damaged_database_and_keeps_it_as_it_was(
    settings: Settings, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.sqlite3"
    backup_database(settings, backup)
    settings.database_path.write_bytes(b"\x00damaged" * 5000)  # the reason to restore
    report = restore_database(settings, backup)
    assert report.previous_kept_as is not None
    assert report.previous_kept_as.read_bytes() == b"\x00damaged" * 5000
    assert _texts(settings.database_path) == [row["text"] for row in CODED_ROWS]


def test_a_backup_never_overwrites_a_file_that_appears_while_it_is_written(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "backup.sqlite3"
    check = backup_module._check

    def another_writer_gets_there_first(path: Path) -> None:
        check(path)
        target.write_text("another backup, written meanwhile")

    monkeypatch.setattr(backup_module, "_check", another_writer_gets_there_first)
    with pytest.raises(BackupError, match="already exists"):
        backup_database(settings, target)
    assert target.read_text() == "another backup, written meanwhile"
    assert [path.name for path in tmp_path.iterdir() if "partial" in path.name] == []


def test_a_backup_where_hard_links_are_unsupported_says_so_and_leaves_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hard_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(backup_module.os, "link", no_hard_links)
    target = tmp_path / "backup.sqlite3"
    with pytest.raises(BackupError, match="hard links"):
        backup_database(settings, target)
    assert sorted(path.name for path in tmp_path.iterdir() if "backup" in path.name) == []


def test_restore_refused_by_the_system_for_an_open_file_says_stop_it(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows takes no shared lock: the refusal comes from replacing the open file."""
    backup = tmp_path / "backup.sqlite3"
    backup_database(settings, backup)
    before = _texts(settings.database_path)

    def open_elsewhere(source: object, target: object) -> None:
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(backup_module.os, "replace", open_elsewhere)
    with pytest.raises(BackupError, match="stop it"):
        restore_database(settings, backup)
    assert _texts(settings.database_path) == before


def test_restore_does_not_take_a_busy_database_for_a_damaged_one(
    settings: Settings, tmp_path: Path
) -> None:
    """A writer outside the store's lock (as a backup was, before it took the lock) makes
    SQLite answer "database is locked": that is no damage, and the WAL is not the restore's."""
    backup = tmp_path / "backup.sqlite3"
    backup_database(settings, backup)
    writer = sqlite3.connect(settings.database_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO projects (id, name, uid, created_at) VALUES ('w', 'w', 'u', 'x')"
        )
        with pytest.raises(BackupError, match="locked"):
            restore_database(settings, backup)
        assert settings.database_path.with_name("intercoder.sqlite3-wal").exists()
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert "w" in _project_ids(settings.database_path)
    assert not list(settings.data_dir.glob("*before-restore*"))


def _project_ids(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM projects ORDER BY id")]


def test_a_backup_holds_the_store_lock_so_restore_waits_for_it(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = tmp_path / "earlier.sqlite3"
    backup_database(settings, earlier)
    check = backup_module._check
    refusals: list[str] = []

    def restore_meanwhile(path: Path) -> None:
        check(path)
        with pytest.raises(BackupError) as refused:
            restore_database(settings, earlier)
        refusals.append(str(refused.value))

    monkeypatch.setattr(backup_module, "_check", restore_meanwhile)
    backup_database(settings, tmp_path / "backup.sqlite3")
    assert len(refusals) == 1
    assert "stop it" in refusals[0]


def test_a_backup_refuses_while_a_restore_holds_the_database(
    settings: Settings, tmp_path: Path
) -> None:
    with (
        hold_lock(lock_path(settings.database_path), "exclusive"),
        pytest.raises(BackupError, match="being restored"),
    ):
        backup_database(settings, tmp_path / "backup.sqlite3")
    assert not (tmp_path / "backup.sqlite3").exists()


def test_a_full_disk_while_keeping_the_damaged_database_leaves_no_truncated_copy(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = tmp_path / "backup.sqlite3"
    backup_database(settings, backup)
    damaged = b"\x00damaged" * 5000
    settings.database_path.write_bytes(damaged)
    real_copy = shutil.copyfile

    def disk_fills_halfway(source: Path, target: Path) -> Path:
        Path(target).write_bytes(Path(source).read_bytes()[:1000])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_module.shutil, "copyfile", disk_fills_halfway)
    monkeypatch.setattr(backup_module.shutil, "copy2", disk_fills_halfway)
    with pytest.raises(BackupError, match="No space left"):
        restore_database(settings, backup)
    assert settings.database_path.read_bytes() == damaged
    assert [
        path.name for path in settings.data_dir.iterdir() if "before-restore" in path.name
    ] == []
    monkeypatch.setattr(backup_module.shutil, "copyfile", real_copy)
    report = restore_database(settings, backup)  # space again: it goes ahead
    assert report.previous_kept_as is not None
    assert report.previous_kept_as.read_bytes() == damaged
