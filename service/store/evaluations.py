"""A project's last evaluation report, kept as the harness wrote it (JSON)."""

from __future__ import annotations

import sqlite3

from service.store.database import now


def save_evaluation(connection: sqlite3.Connection, project_id: str, report_json: str) -> None:
    """Keep this report as the project's last evaluation (replacing the one before)."""
    connection.execute(
        "INSERT INTO evaluations (project_id, report, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (project_id) DO UPDATE SET report = excluded.report, "
        "created_at = excluded.created_at",
        (project_id, report_json, now()),
    )


def last_evaluation(connection: sqlite3.Connection, project_id: str) -> str | None:
    """The project's last evaluation report (JSON), None if it was never evaluated."""
    row = connection.execute(
        "SELECT report FROM evaluations WHERE project_id = ?", (project_id,)
    ).fetchone()
    return None if row is None else str(row[0])
