"""Reads for the review page: the human codings and the latest decisions on a transcript's
sentences (a transcript's exemplars are found through the exemplars' unique unit key)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Literal

from service.store.projects import require_project


@dataclass(frozen=True)
class LatestDecision:
    """The last decision a coder made on one sentence."""

    id: int
    action: Literal["accept", "reject", "change"]
    codes: tuple[str, ...] | None


def transcript_codings(
    connection: sqlite3.Connection, project_id: str, transcript_id: str
) -> dict[int, tuple[int, tuple[str, ...]]]:
    """Sentence index -> (exemplar id, codes) of every sentence of the transcript a human coded
    (exemplars whose unit id is the sentence's index, as decisions and imports store them)."""
    require_project(connection, project_id)
    rows = connection.execute(
        "SELECT unit_id, id, codes FROM exemplars WHERE project_id = ? AND transcript_id = ?",
        (project_id, transcript_id),
    ).fetchall()
    return {
        int(unit_id): (int(exemplar_id), tuple(json.loads(codes)))
        for unit_id, exemplar_id, codes in rows
        if str(unit_id).isdigit()
    }


def latest_decisions(
    connection: sqlite3.Connection, project_id: str, transcript_id: str
) -> dict[int, LatestDecision]:
    """Sentence index -> the latest decision on it, for the transcript's decided sentences."""
    rows = connection.execute(
        "SELECT sentence_index, id, action, codes FROM decisions WHERE id IN ("
        " SELECT MAX(id) FROM decisions WHERE project_id = ? AND transcript_id = ?"
        " AND sentence_index IS NOT NULL GROUP BY sentence_index)",
        (project_id, transcript_id),
    ).fetchall()
    return {
        int(index): LatestDecision(
            id=int(decision_id),
            action=action,
            codes=None if codes is None else tuple(json.loads(codes)),
        )
        for index, decision_id, action, codes in rows
    }
