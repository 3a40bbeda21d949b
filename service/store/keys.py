"""API keys in the database: only their sha256 is stored, never the key itself."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from service.store.database import now


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


def find_key(connection: sqlite3.Connection, key_sha256: str) -> tuple[KeyRow, str] | None:
    """The key stored under this sha256, with the stored digest (the caller compares the two
    in constant time), or None."""
    row = connection.execute(
        "SELECT id, project_id, label, created_at, key_sha256 FROM api_keys WHERE key_sha256 = ?",
        (key_sha256,),
    ).fetchone()
    return None if row is None else (_key(row), str(row[4]))


def key_count(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0])


def list_keys(connection: sqlite3.Connection) -> list[KeyRow]:
    rows = connection.execute(
        "SELECT id, project_id, label, created_at FROM api_keys ORDER BY id"
    ).fetchall()
    return [_key(row) for row in rows]


def delete_key(connection: sqlite3.Connection, key_id: int) -> bool:
    """Remove a key; False when there is no key with this id."""
    return connection.execute("DELETE FROM api_keys WHERE id = ?", (key_id,)).rowcount > 0


def _key(row: tuple[object, ...]) -> KeyRow:
    project = None if row[1] is None else str(row[1])
    return KeyRow(int(str(row[0])), project, str(row[2]), str(row[3]))
