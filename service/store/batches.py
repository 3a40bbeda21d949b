"""The service's batch runs: what was asked, where each stands, and how it ended."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from service.errors import NotFoundError
from service.store.database import now
from service.store.projects import require_project

BatchState = Literal["queued", "running", "done", "failed", "interrupted"]
UNFINISHED: tuple[BatchState, ...] = ("queued", "running", "interrupted")
_COLUMNS = (
    "id, project_id, state, request, items_done, items_total, sentences_done, summary, error, "
    "created_at, finished_at"
)


@dataclass(frozen=True)
class BatchRow:
    id: str
    project_id: str
    state: BatchState
    request: str
    """The request as JSON (``service.app.batch_jobs.BatchSpec``)."""
    items_done: int
    items_total: int
    sentences_done: int
    summary: str | None
    """The run's summary as JSON once done."""
    error: str | None
    created_at: str
    finished_at: str | None


def insert_batch(connection: sqlite3.Connection, project_id: str, request: str) -> BatchRow:
    require_project(connection, project_id)
    batch_id = uuid.uuid4().hex
    connection.execute(
        "INSERT INTO batches (id, project_id, state, request, created_at) "
        "VALUES (?, ?, 'queued', ?, ?)",
        (batch_id, project_id, request, now()),
    )
    return get_batch(connection, project_id, batch_id)


def get_batch(connection: sqlite3.Connection, project_id: str, batch_id: str) -> BatchRow:
    row = connection.execute(
        f"SELECT {_COLUMNS} FROM batches WHERE project_id = ? AND id = ?", (project_id, batch_id)
    ).fetchone()
    if row is None:
        require_project(connection, project_id)
        raise NotFoundError(
            f"project {project_id!r} has no batch {batch_id!r}; list its batches with "
            f"GET /v1/projects/{project_id}/batches"
        )
    return _batch(row)


def batch_exists(connection: sqlite3.Connection, batch_id: str) -> bool:
    """Whether the batch is recorded (a deleted project's batches are not)."""
    found = connection.execute("SELECT 1 FROM batches WHERE id = ?", (batch_id,)).fetchone()
    return found is not None


def list_batches(connection: sqlite3.Connection, project_id: str) -> list[BatchRow]:
    require_project(connection, project_id)
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM batches WHERE project_id = ? ORDER BY created_at, id",
        (project_id,),
    ).fetchall()
    return [_batch(row) for row in rows]


def unfinished_batches(connection: sqlite3.Connection) -> list[BatchRow]:
    marks = ",".join("?" * len(UNFINISHED))
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM batches WHERE state IN ({marks}) ORDER BY created_at, id",
        UNFINISHED,
    ).fetchall()
    return [_batch(row) for row in rows]


def set_progress(
    connection: sqlite3.Connection,
    batch_id: str,
    *,
    state: BatchState,
    items_done: int,
    items_total: int,
    sentences_done: int,
) -> bool:
    """Record progress; False when the batch is gone (its project was deleted)."""
    updated = connection.execute(
        "UPDATE batches SET state = ?, items_done = ?, items_total = ?, sentences_done = ? "
        "WHERE id = ?",
        (state, items_done, items_total, sentences_done, batch_id),
    )
    return updated.rowcount > 0


def set_finished(
    connection: sqlite3.Connection,
    batch_id: str,
    state: BatchState,
    *,
    summary: str | None = None,
    error: str | None = None,
) -> None:
    finished = now() if state in ("done", "failed") else None
    connection.execute(
        "UPDATE batches SET state = ?, summary = ?, error = ?, finished_at = ? WHERE id = ?",
        (state, summary, error, finished, batch_id),
    )


def _batch(row: Sequence[object]) -> BatchRow:
    return BatchRow(
        id=str(row[0]),
        project_id=str(row[1]),
        state=str(row[2]),  # type: ignore[arg-type]
        request=str(row[3]),
        items_done=int(row[4]),  # type: ignore[call-overload]
        items_total=int(row[5]),  # type: ignore[call-overload]
        sentences_done=int(row[6]),  # type: ignore[call-overload]
        summary=None if row[7] is None else str(row[7]),
        error=None if row[8] is None else str(row[8]),
        created_at=str(row[9]),
        finished_at=None if row[10] is None else str(row[10]),
    )
