"""The append-only log of coders' decisions on suggestions (the schema refuses edits)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from service.store.database import now
from service.store.projects import require_project

Action = Literal["accept", "reject", "change"]


@dataclass(frozen=True)
class NewDecision:
    action: Action
    coder: str
    transcript_id: str | None
    sentence_index: int | None
    text: str
    suggested: tuple[str, ...]
    codes: tuple[str, ...] | None
    """The coding the decision settles on; None for a rejection, which names no codes."""
    method: str | None
    agent: str | None
    codebook_version: str
    exemplar_id: int | None
    replaced_exemplar_id: int | None


@dataclass(frozen=True)
class DecisionRow(NewDecision):
    id: int
    created_at: str


_COLUMNS = (
    "id, action, coder, transcript_id, sentence_index, text, suggested, codes, method, agent, "
    "codebook_version, exemplar_id, replaced_exemplar_id, created_at"
)


def insert_decision(
    connection: sqlite3.Connection, project_id: str, decision: NewDecision
) -> DecisionRow:
    cursor = connection.execute(
        f"INSERT INTO decisions (project_id, {_COLUMNS.removeprefix('id, ')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            project_id,
            decision.action,
            decision.coder,
            decision.transcript_id,
            decision.sentence_index,
            decision.text,
            json.dumps(list(decision.suggested)),
            None if decision.codes is None else json.dumps(sorted(decision.codes)),
            decision.method,
            decision.agent,
            decision.codebook_version,
            decision.exemplar_id,
            decision.replaced_exemplar_id,
            now(),
        ),
    )
    row = connection.execute(
        f"SELECT {_COLUMNS} FROM decisions WHERE id = ?", (cursor.lastrowid,)
    ).fetchone()
    return _row(row)


def list_decisions(
    connection: sqlite3.Connection, project_id: str, *, after: int, limit: int
) -> list[DecisionRow]:
    require_project(connection, project_id)
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM decisions WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?",
        (project_id, after, limit),
    ).fetchall()
    return [_row(row) for row in rows]


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _row(row: Sequence[object]) -> DecisionRow:
    action = str(row[1])
    assert action in ("accept", "reject", "change"), "the schema's CHECK allows no other action"
    return DecisionRow(
        id=int(row[0]),  # type: ignore[call-overload]
        action=action,  # type: ignore[arg-type]
        coder=str(row[2]),
        transcript_id=None if row[3] is None else str(row[3]),
        sentence_index=_optional_int(row[4]),
        text=str(row[5]),
        suggested=tuple(json.loads(str(row[6]))),
        codes=None if row[7] is None else tuple(json.loads(str(row[7]))),
        method=None if row[8] is None else str(row[8]),
        agent=None if row[9] is None else str(row[9]),
        codebook_version=str(row[10]),
        exemplar_id=_optional_int(row[11]),
        replaced_exemplar_id=_optional_int(row[12]),
        created_at=str(row[13]),
    )
