"""What a project holds beyond its exemplars, counted for ``intercoder projects``."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectActivity:
    transcripts: int
    sentences: int
    decisions: int
    batches: int
    last_evaluated_at: str | None
    """When the project's last evaluation report was written; None if never evaluated."""


def transcript_counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Transcripts per project id (projects without any are absent)."""
    rows = connection.execute("SELECT project_id, COUNT(*) FROM transcripts GROUP BY project_id")
    return {str(project_id): int(count) for project_id, count in rows}


def project_activity(connection: sqlite3.Connection, project_id: str) -> ProjectActivity:
    def count(table: str) -> int:
        # table names are this module's constants, never input
        query = f"SELECT COUNT(*) FROM {table} WHERE project_id = ?"
        return int(connection.execute(query, (project_id,)).fetchone()[0])

    evaluated = connection.execute(
        "SELECT created_at FROM evaluations WHERE project_id = ?", (project_id,)
    ).fetchone()
    return ProjectActivity(
        transcripts=count("transcripts"),
        sentences=count("sentences"),
        decisions=count("decisions"),
        batches=count("batches"),
        last_evaluated_at=None if evaluated is None else str(evaluated[0]),
    )
