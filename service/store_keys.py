"""API keys in the database: only their sha256 is stored, never the key itself."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from service.store import now


@dataclass(frozen=True)
class KeyRow:
    id: int
    project_id: str | None
    """The one project the key opens; None for a key that opens every project (an admin key)."""
    label: str
    created_at: str


def insert_key(
    connection: sqlite3.Connection, key_sha256: str, project_id: str | None, label: str
) -> KeyRow:
    created = now()
    cursor = connection.execute(
        "INSERT INTO api_keys (key_sha256, project_id, label, created_at) VALUES (?, ?, ?, ?)",
        (key_sha256, project_id, label, created),
    )
    return KeyRow(int(cursor.lastrowid or 0), project_id, label, created)


def find_key(connection: sqlite3.Connection, key_sha256: str) -> KeyRow | None:
    row = connection.execute(
        "SELECT id, project_id, label, created_at FROM api_keys WHERE key_sha256 = ?",
        (key_sha256,),
    ).fetchone()
    if row is None:
        return None
    return KeyRow(int(row[0]), None if row[1] is None else str(row[1]), str(row[2]), str(row[3]))


def key_count(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0])
