"""A backup taken from a real server under concurrent writes, and a server on its restored copy.

Every write acknowledged before ``intercoder backup`` started is in the backup, which passes
SQLite's integrity check; restore refuses while that server runs; a server started on the
restored copy serves exactly the exemplars the backup holds.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.test_service_support import SMALL_CODEBOOK, ServerProcess

pytestmark = pytest.mark.slow
WRITERS = 3
WRITES_BEFORE_BACKUP = 20
WRITES_AFTER_BACKUP_STARTED = 5
DEADLINE_S = 180.0  # only a machine that cannot serve at all takes this long: never timing


def _intercoder(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "service.cli.main", "--data-dir", str(data_dir), *args]
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


class Writers:
    """Threads adding one exemplar per request until stopped; they record, never assert."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.acknowledged: list[tuple[float, int]] = []  # (when the 201 arrived, exemplar id)
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(WRITERS)]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, writer: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            count = 0
            while not self.stop.is_set():
                count += 1
                row = {"transcript_id": f"w{writer}", "unit_id": f"u{count}",
                       "text": f"writer {writer} sentence {count}", "codes": ["P"]}  # fmt: skip
                try:
                    response = client.post("/v1/projects/p1/exemplars", json={"exemplars": [row]})
                except httpx.HTTPError as error:
                    self._record_failure(f"{type(error).__name__}: {error}")
                    continue
                if response.status_code != 201:
                    self._record_failure(f"{response.status_code}: {response.text[:200]}")
                    continue
                answered = time.monotonic()
                with self._lock:
                    self.acknowledged.extend((answered, i) for i in response.json()["ids"])

    def wait_for(self, count: int, *, after: float = 0.0) -> int:
        """Wait until ``count`` writes acknowledged after ``after`` (monotonic time), or the
        generous deadline, or a failure; how many there are then."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            with self._lock:
                done = sum(1 for answered, _ in self.acknowledged if answered > after)
                failed = bool(self.failures)
            if done >= count or failed or time.monotonic() > deadline:
                return done
            time.sleep(0.05)

    def _record_failure(self, failure: str) -> None:
        with self._lock:
            self.failures.append(failure)


def _backup_rows(path: Path) -> dict[int, str]:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return dict(connection.execute("SELECT id, text FROM exemplars WHERE project_id = 'p1'"))


def _served_rows(url: str) -> dict[int, str]:
    rows: dict[int, str] = {}
    params: dict[str, Any] = {"limit": 500}
    while True:
        page = httpx.get(f"{url}/v1/projects/p1/exemplars", params=params, timeout=60)
        assert page.status_code == 200, page.text
        rows.update((item["id"], item["text"]) for item in page.json()["items"])
        if not page.json()["next_cursor"]:
            return rows
        params["cursor"] = page.json()["next_cursor"]


def test_a_backup_under_write_load_restores_to_a_working_service(tmp_path: Path) -> None:
    data_dir, backup = tmp_path / "data", tmp_path / "backup.sqlite3"
    server = ServerProcess(data_dir, tmp_path / "server.log")
    server.start()
    try:
        created = httpx.post(
            f"{server.url}/v1/projects", json={"id": "p1", "codebook": SMALL_CODEBOOK}, timeout=60
        )
        assert created.status_code == 201, created.text
        with Writers(server.url) as writers:
            written_before = writers.wait_for(WRITES_BEFORE_BACKUP)
            backup_started = time.monotonic()
            made = _intercoder(data_dir, "backup", "--to", str(backup))
            written_after = writers.wait_for(WRITES_AFTER_BACKUP_STARTED, after=backup_started)
        refused = _intercoder(data_dir, "restore", str(backup))
    finally:
        server.stop()
    assert made.returncode == 0, made.stderr
    assert writers.failures == []
    before = {i for answered, i in writers.acknowledged if answered < backup_started}
    in_backup = _backup_rows(backup)
    assert written_before >= WRITES_BEFORE_BACKUP  # the backup met a database being written
    assert written_after >= WRITES_AFTER_BACKUP_STARTED  # and writes went on meanwhile
    assert len(before) >= WRITES_BEFORE_BACKUP
    assert before <= set(in_backup), f"missing from the backup: {sorted(before - set(in_backup))}"
    assert refused.returncode == 2
    assert "stop it" in refused.stderr

    restored_dir = tmp_path / "restored"
    restored = _intercoder(restored_dir, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    on_copy = ServerProcess(restored_dir, tmp_path / "restored.log")
    on_copy.start()
    try:
        assert _served_rows(on_copy.url) == in_backup
    finally:
        on_copy.stop()
