"""Uploaded transcripts and their sentences (with offsets, speaker and turn) in the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from codebook.transcripts import Sentence, Transcript
from service.errors import ConflictError, NotFoundError
from service.store.database import now
from service.store.projects import require_project


@dataclass(frozen=True)
class TranscriptRow:
    id: str
    filename: str
    format: str
    turn_count: int
    sentence_count: int
    created_at: str


_TRANSCRIPT_COLUMNS = "id, filename, format, turn_count, sentence_count, created_at"


def _transcript(row: Sequence[object]) -> TranscriptRow:
    return TranscriptRow(
        id=str(row[0]),
        filename=str(row[1]),
        format=str(row[2]),
        turn_count=int(row[3]),  # type: ignore[call-overload]
        sentence_count=int(row[4]),  # type: ignore[call-overload]
        created_at=str(row[5]),
    )


def insert_transcript(
    connection: sqlite3.Connection,
    project_id: str,
    transcript: Transcript,
    filename: str,
    sentences: Sequence[Sentence],
) -> TranscriptRow:
    """Store the transcript and its sentences; ConflictError if its id is taken."""
    require_project(connection, project_id)
    taken = connection.execute(
        "SELECT 1 FROM transcripts WHERE project_id = ? AND id = ?", (project_id, transcript.id)
    ).fetchone()
    if taken:
        raise ConflictError(
            f"project {project_id!r} already has a transcript {transcript.id!r}; give the "
            "upload another transcript_id"
        )
    connection.execute(
        "INSERT INTO transcripts (project_id, id, filename, format, text, turn_count, "
        "sentence_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            project_id,
            transcript.id,
            filename,
            transcript.source_format,
            transcript.text,
            len(transcript.turns),
            len(sentences),
            now(),
        ),
    )
    connection.executemany(
        "INSERT INTO sentences (project_id, transcript_id, idx, turn_index, speaker, text, "
        "start_offset, end_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (project_id, transcript.id, s.index, s.turn_index, s.speaker, s.text, s.start, s.end)
            for s in sentences
        ],
    )
    return get_transcript(connection, project_id, transcript.id)


def get_transcript(
    connection: sqlite3.Connection, project_id: str, transcript_id: str
) -> TranscriptRow:
    row = connection.execute(
        f"SELECT {_TRANSCRIPT_COLUMNS} FROM transcripts WHERE project_id = ? AND id = ?",
        (project_id, transcript_id),
    ).fetchone()
    if row is None:
        require_project(connection, project_id)
        raise NotFoundError(
            f"project {project_id!r} has no transcript {transcript_id!r}; list them with "
            f"GET /v1/projects/{project_id}/transcripts"
        )
    return _transcript(row)


def transcript_text(connection: sqlite3.Connection, project_id: str, transcript_id: str) -> str:
    get_transcript(connection, project_id, transcript_id)
    row = connection.execute(
        "SELECT text FROM transcripts WHERE project_id = ? AND id = ?", (project_id, transcript_id)
    ).fetchone()
    return str(row[0])


def list_transcripts(
    connection: sqlite3.Connection, project_id: str, *, after: str, limit: int
) -> list[TranscriptRow]:
    require_project(connection, project_id)
    rows = connection.execute(
        f"SELECT {_TRANSCRIPT_COLUMNS} FROM transcripts WHERE project_id = ? AND id > ? "
        "ORDER BY id LIMIT ?",
        (project_id, after, limit),
    ).fetchall()
    return [_transcript(row) for row in rows]


def sentences(
    connection: sqlite3.Connection,
    project_id: str,
    transcript_id: str,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[Sentence]:
    """The transcript's sentences in order, from ``offset``, at most ``limit`` of them."""
    get_transcript(connection, project_id, transcript_id)
    rows = connection.execute(
        "SELECT idx, turn_index, speaker, text, start_offset, end_offset FROM sentences "
        "WHERE project_id = ? AND transcript_id = ? AND idx >= ? ORDER BY idx LIMIT ?",
        (project_id, transcript_id, offset, -1 if limit is None else limit),
    ).fetchall()
    return [
        Sentence(
            transcript_id=transcript_id,
            index=int(row[0]),
            turn_index=int(row[1]),
            speaker=str(row[2]),
            text=str(row[3]),
            start=int(row[4]),
            end=int(row[5]),
        )
        for row in rows
    ]


def transcript_speakers(
    connection: sqlite3.Connection, project_id: str, transcript_id: str
) -> list[str]:
    """Every speaker of the transcript, once each."""
    get_transcript(connection, project_id, transcript_id)
    rows = connection.execute(
        "SELECT DISTINCT speaker FROM sentences WHERE project_id = ? AND transcript_id = ?",
        (project_id, transcript_id),
    ).fetchall()
    return [str(row[0]) for row in rows]


def sentence_with_previous(
    connection: sqlite3.Connection, project_id: str, transcript_id: str, index: int
) -> tuple[Sentence, str]:
    """One sentence and the text of the sentence before it ("" for the first)."""
    found = sentences(
        connection, project_id, transcript_id, offset=max(index - 1, 0), limit=2 if index else 1
    )
    current = [row for row in found if row.index == index]
    if not current:
        raise NotFoundError(
            f"transcript {transcript_id!r} has no sentence {index}; its sentences are numbered "
            f"from 0 (GET /v1/projects/{project_id}/transcripts/{transcript_id})"
        )
    previous = [row.text for row in found if row.index == index - 1]
    return current[0], previous[0] if previous else ""
