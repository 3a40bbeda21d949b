"""Reads for the review page: the human codings and the latest decisions on a transcript's
sentences (a transcript's exemplars are found through the exemplars' unique unit key)."""

from __future__ import annotations

import json
import re
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


@dataclass(frozen=True)
class HumanCoding:
    """The exemplar stored under a transcript's unit id that is a sentence index."""

    exemplar_id: int
    codes: tuple[str, ...]
    text: str

    def codes_sentence(self, text: str) -> bool:
        """Whether this is the coding of the stored sentence with ``text``: coded data may
        number its own units under the same transcript id (from 0 or 1, or other sentences),
        so only the same text makes it this sentence's."""
        return self.text == text


_SENTENCE_INDEX = re.compile(r"[0-9]+")
"""ASCII digits only: str.isdigit() accepts '²', which int() refuses."""


def transcript_codings(
    connection: sqlite3.Connection, project_id: str, transcript_id: str
) -> dict[int, HumanCoding]:
    """Sentence index -> the exemplar stored under that unit id for the transcript (as
    decisions and imports store them); check its text with :meth:`HumanCoding.codes_sentence`."""
    require_project(connection, project_id)
    rows = connection.execute(
        "SELECT unit_id, id, codes, text FROM exemplars WHERE project_id = ? AND transcript_id = ?",
        (project_id, transcript_id),
    ).fetchall()
    return {
        int(unit_id): HumanCoding(int(exemplar_id), tuple(json.loads(codes)), text)
        for unit_id, exemplar_id, codes, text in rows
        if _SENTENCE_INDEX.fullmatch(str(unit_id))
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
