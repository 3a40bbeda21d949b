"""Coded exemplars in the service's database, each with the embedding the index is built from."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn

import numpy as np
import numpy.typing as npt
import pandas as pd

from codebook.coded import CodedUnit, coded_frame
from codebook.errors import Problem
from models.context import UnitContext
from service.errors import ConflictError, NotFoundError
from service.store.database import now
from service.store.projects import require_project

Origin = Literal["import", "decision"]


@dataclass(frozen=True)
class NewExemplar:
    """An exemplar about to be stored: a coded unit and its embedding."""

    transcript_id: str
    unit_id: str
    turn_index: int
    speaker: str
    text: str
    codes: frozenset[str]
    coder: str
    previous_text: str
    group: str
    origin: Origin
    vector: npt.NDArray[np.float32]


@dataclass(frozen=True)
class ExemplarRow:
    id: int
    transcript_id: str
    unit_id: str
    turn_index: int
    speaker: str
    text: str
    codes: tuple[str, ...]
    coder: str
    previous_text: str
    group: str
    origin: Origin
    created_at: str


_COLUMNS = (
    "id, transcript_id, unit_id, turn_index, speaker, text, codes, coder, previous_text, grp, "
    "origin, created_at"
)


def new_exemplars(
    frame: pd.DataFrame, vectors: npt.NDArray[np.float32], *, origin: Origin
) -> list[NewExemplar]:
    """A coded-units table and its embeddings as exemplars about to be stored."""
    return [
        NewExemplar(
            transcript_id=str(row["transcript_id"]),
            unit_id=str(row["unit_id"]),
            turn_index=int(row["turn_index"]),
            speaker=str(row["speaker"]),
            text=str(row["text"]),
            codes=frozenset(row["codes"]),
            coder=str(row["coder"]),
            previous_text=str(row["previous_text"]),
            group=str(row["group"]),
            origin=origin,
            vector=vectors[position],
        )
        for position, row in enumerate(frame.to_dict("records"))
    ]


def coded_units(rows: Iterable[ExemplarRow]) -> pd.DataFrame:
    """Stored exemplars as a coded-units table (for the harness and the CSV export)."""
    return coded_frame(
        [
            CodedUnit(
                transcript_id=row.transcript_id,
                unit_id=row.unit_id,
                turn_index=row.turn_index,
                text=row.text,
                codes=frozenset(row.codes),
                speaker=row.speaker,
                coder=row.coder,
                previous_text=row.previous_text,
                group=row.group,
            )
            for row in rows
        ]
    )


def _row(row: Sequence[object]) -> ExemplarRow:
    return ExemplarRow(
        id=int(row[0]),  # type: ignore[call-overload]
        transcript_id=str(row[1]),
        unit_id=str(row[2]),
        turn_index=int(row[3]),  # type: ignore[call-overload]
        speaker=str(row[4]),
        text=str(row[5]),
        codes=tuple(json.loads(str(row[6]))),
        coder=str(row[7]),
        previous_text=str(row[8]),
        group=str(row[9]),
        origin="decision" if row[10] == "decision" else "import",
        created_at=str(row[11]),
    )


def insert_exemplars(
    connection: sqlite3.Connection,
    project_id: str,
    exemplars: Sequence[NewExemplar],
    model_id: str,
) -> list[int]:
    """Store the exemplars; ConflictError listing every unit the project already has."""
    taken = units_taken(connection, project_id, [(e.transcript_id, e.unit_id) for e in exemplars])
    if taken:
        raise ConflictError(
            f"{len(taken)} unit(s) already have an exemplar in project {project_id!r}; give "
            "them other unit_id values, or delete the stored exemplars first",
            [Problem(f"transcript {t}, unit {u}", "already coded") for t, u in taken],
        )
    created = now()
    ids = []
    for exemplar in exemplars:
        cursor = connection.execute(
            "INSERT INTO exemplars (project_id, transcript_id, unit_id, turn_index, speaker, "
            "text, codes, coder, previous_text, grp, origin, model_id, embedding, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                project_id,
                exemplar.transcript_id,
                exemplar.unit_id,
                exemplar.turn_index,
                exemplar.speaker,
                exemplar.text,
                json.dumps(sorted(exemplar.codes)),
                exemplar.coder,
                exemplar.previous_text,
                exemplar.group,
                exemplar.origin,
                model_id,
                _blob(exemplar.vector),
                created,
            ),
        )
        ids.append(int(cursor.lastrowid or 0))
    return ids


def units_taken(
    connection: sqlite3.Connection, project_id: str, units: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The (transcript_id, unit_id) pairs among ``units`` that already have an exemplar."""
    taken = []
    for transcript_id, unit_id in units:
        if exemplar_for_unit(connection, project_id, transcript_id, unit_id) is not None:
            taken.append((transcript_id, unit_id))
    return taken


def exemplar_for_unit(
    connection: sqlite3.Connection, project_id: str, transcript_id: str, unit_id: str
) -> int | None:
    row = connection.execute(
        "SELECT id FROM exemplars WHERE project_id = ? AND transcript_id = ? AND unit_id = ?",
        (project_id, transcript_id, unit_id),
    ).fetchone()
    return None if row is None else int(row[0])


def delete_exemplar(connection: sqlite3.Connection, project_id: str, exemplar_id: int) -> None:
    deleted = connection.execute(
        "DELETE FROM exemplars WHERE project_id = ? AND id = ?", (project_id, exemplar_id)
    ).rowcount
    if not deleted:
        _not_found(connection, project_id, exemplar_id)


def get_exemplar(connection: sqlite3.Connection, project_id: str, exemplar_id: int) -> ExemplarRow:
    row = connection.execute(
        f"SELECT {_COLUMNS} FROM exemplars WHERE project_id = ? AND id = ?",
        (project_id, exemplar_id),
    ).fetchone()
    if row is None:
        _not_found(connection, project_id, exemplar_id)
    return _row(row)


def list_exemplars(
    connection: sqlite3.Connection, project_id: str, *, after: int, limit: int
) -> list[ExemplarRow]:
    require_project(connection, project_id)
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM exemplars WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?",
        (project_id, after, limit),
    ).fetchall()
    return [_row(row) for row in rows]


def all_exemplars(connection: sqlite3.Connection, project_id: str) -> list[ExemplarRow]:
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM exemplars WHERE project_id = ? ORDER BY id", (project_id,)
    ).fetchall()
    return [_row(row) for row in rows]


@dataclass(frozen=True)
class CodedSnapshot:
    """What a coder learns from, for every exemplar of a project in id order."""

    ids: npt.NDArray[np.int64]
    texts: tuple[str, ...]
    codes: tuple[frozenset[str], ...]
    groups: tuple[str, ...]


def coded_snapshot(connection: sqlite3.Connection, project_id: str) -> CodedSnapshot:
    """Only the columns a coder needs, read in one query and decoded in one ``json.loads``:
    this runs before every suggestion that follows a change, so at 10,000 exemplars building
    a row object per exemplar (0.1 s) was most of the time a decision took to count."""
    rows = connection.execute(
        "SELECT id, text, codes, grp FROM exemplars WHERE project_id = ? ORDER BY id",
        (project_id,),
    ).fetchall()
    if not rows:
        return CodedSnapshot(np.zeros(0, dtype=np.int64), (), (), ())
    ids, texts, codes, groups = zip(*rows, strict=True)
    decoded = json.loads("[" + ",".join(codes) + "]")
    return CodedSnapshot(
        ids=np.asarray(ids, dtype=np.int64),
        texts=texts,
        codes=tuple(frozenset(code_list) for code_list in decoded),
        groups=groups,
    )


def all_code_sets(connection: sqlite3.Connection, project_id: str) -> list[tuple[int, list[str]]]:
    """(exemplar id, codes) of every exemplar, to check them against a new codebook."""
    rows = connection.execute(
        "SELECT id, codes FROM exemplars WHERE project_id = ? ORDER BY id", (project_id,)
    ).fetchall()
    return [(int(row[0]), json.loads(str(row[1]))) for row in rows]


def exemplar_ids(connection: sqlite3.Connection, project_id: str) -> npt.NDArray[np.int64]:
    rows = connection.execute(
        "SELECT id FROM exemplars WHERE project_id = ? ORDER BY id", (project_id,)
    ).fetchall()
    return np.array([int(row[0]) for row in rows], dtype=np.int64)


def exemplar_vectors(
    connection: sqlite3.Connection, project_id: str, dim: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Ids and stored embeddings of every exemplar: what the project's index is rebuilt from."""
    rows = connection.execute(
        "SELECT id, embedding FROM exemplars WHERE project_id = ? ORDER BY id", (project_id,)
    ).fetchall()
    ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
    vectors = np.zeros((len(rows), dim), dtype=np.float32)
    for position, (_, blob) in enumerate(rows):
        vectors[position] = np.frombuffer(blob, dtype=np.float32)
    return ids, vectors


def embedded_with_other_models(
    connection: sqlite3.Connection, project_id: str, model_id: str
) -> list[tuple[int, UnitContext]]:
    """(id, unit with its context) of exemplars embedded by another model than ``model_id``:
    to re-embed, the way the new model reads units."""
    rows = connection.execute(
        "SELECT id, text, speaker, previous_text FROM exemplars "
        "WHERE project_id = ? AND model_id != ? ORDER BY id",
        (project_id, model_id),
    ).fetchall()
    return [(int(row[0]), UnitContext(str(row[1]), str(row[2]), str(row[3]))) for row in rows]


def replace_embeddings(
    connection: sqlite3.Connection,
    ids: Sequence[int],
    vectors: npt.NDArray[np.float32],
    model_id: str,
) -> None:
    connection.executemany(
        "UPDATE exemplars SET embedding = ?, model_id = ? WHERE id = ?",
        [
            (_blob(vector), model_id, exemplar_id)
            for exemplar_id, vector in zip(ids, vectors, strict=True)
        ],
    )


def _blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _not_found(connection: sqlite3.Connection, project_id: str, exemplar_id: int) -> NoReturn:
    require_project(connection, project_id)
    raise NotFoundError(
        f"project {project_id!r} has no exemplar {exemplar_id}; list them with "
        f"GET /v1/projects/{project_id}/exemplars"
    )


def text_unit_id(text: str) -> str:
    """The unit id of a unit given without one: its text's hash, so resending it conflicts."""
    return "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
