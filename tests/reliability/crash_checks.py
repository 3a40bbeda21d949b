"""What the crash suite checks after each restart, reading the SQLite database directly.

- Lost: an acknowledged write that is not in the database (an added exemplar, a decision, a
  transcript, a codebook version, an imported project), or an acknowledged delete undone.
- Half-applied: anything the database holds only part of, acknowledged or not: a decision
  without its exemplar, a decision's exemplar without its decision, a transcript without all
  its sentences, part of an exemplar batch, a codebook whose stored body is not the version it
  claims, an imported project with less than a whole import; and SQLite's own integrity and
  foreign-key checks.
- Index: each project's saved index (what the restarted server loaded, or rebuilt and saved)
  holds exactly the database's exemplar ids with the database's vectors, and records the
  database's change counter; the server reports as many indexed exemplars as stored ones.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt

from codebook.loader import build_codebook
from models.index import ExemplarIndex
from service.store.project_index import INDEX_FOLDER, STATE_FILE
from tests.reliability.crash_workload import PROJECT, REFI_PREFIX, ImportCounts, Ledger

MODEL_ID = "test-hashing-encoder"


@dataclass
class Findings:
    """Every problem found after one restart, by what it breaks."""

    lost: list[str] = field(default_factory=list)
    half_applied: list[str] = field(default_factory=list)
    index: list[str] = field(default_factory=list)

    def extend(self, other: Findings) -> None:
        self.lost += other.lost
        self.half_applied += other.half_applied
        self.index += other.index


@dataclass(frozen=True)
class Stored:
    """The rows the checks compare, read in one read transaction."""

    exemplars: dict[int, tuple[str, str, str]]  # id -> (project, text, origin)
    decisions: list[tuple[int, str, int | None, int | None]]  # (id, project, exemplar, replaced)
    transcripts: dict[tuple[str, str], tuple[int, int]]  # (project, id) -> (count, rows)
    codebooks: list[tuple[str, str, str]]  # (project, version, body)
    projects: dict[str, int]  # id -> change counter
    integrity: list[str]
    embeddings: dict[int, bytes]  # exemplar id -> its stored float32 vector


def read_database(path: Path) -> Stored:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        connection.execute("BEGIN")  # one snapshot for every query below
        return Stored(
            exemplars={
                int(i): (p, t, o)
                for i, p, t, o in connection.execute(
                    "SELECT id, project_id, text, origin FROM exemplars"
                )
            },
            decisions=list(
                connection.execute(
                    "SELECT id, project_id, exemplar_id, replaced_exemplar_id FROM decisions"
                )
            ),
            transcripts={
                (p, t): (int(n), int(rows))
                for p, t, n, rows in connection.execute(
                    "SELECT t.project_id, t.id, t.sentence_count, "
                    "(SELECT count(*) FROM sentences s "
                    " WHERE s.project_id = t.project_id AND s.transcript_id = t.id) "
                    "FROM transcripts t"
                )
            },
            codebooks=list(connection.execute("SELECT project_id, version, body FROM codebooks")),
            projects=dict(connection.execute("SELECT id, change_counter FROM projects")),
            integrity=[row[0] for row in connection.execute("PRAGMA integrity_check")]
            + [repr(row) for row in connection.execute("PRAGMA foreign_key_check")],
            embeddings=dict(connection.execute("SELECT id, embedding FROM exemplars")),
        )
    finally:
        connection.close()


def check_acknowledged(stored: Stored, ledger: Ledger) -> list[str]:
    """Every acknowledged write that the database lost."""
    lost: list[str] = []
    replaced = {r for _, _, _, r in stored.decisions if r is not None}
    gone_by_request = ledger.delete_sent | replaced  # a delete may commit unacknowledged
    for exemplar_id, text in ledger.exemplar_texts.items():
        row = stored.exemplars.get(exemplar_id)
        if row is None and exemplar_id not in gone_by_request:
            lost.append(f"exemplar {exemplar_id} ({text!r})")
        elif row is not None and (row[0], row[1]) != (PROJECT, text):
            lost.append(f"exemplar {exemplar_id} changed: {row[:2]} instead of {text!r}")
    lost += [
        f"deleted exemplar {i} came back" for i in sorted(ledger.deleted) if i in stored.exemplars
    ]
    decision_ids = {d for d, _, _, _ in stored.decisions}
    lost += [f"decision {d}" for d in ledger.decisions if d not in decision_ids]
    lost += [
        f"transcript {t}" for t in ledger.transcripts if (PROJECT, t) not in stored.transcripts
    ]
    versions = {v for p, v, _ in stored.codebooks if p == PROJECT}
    lost += [f"codebook version {v}" for v in sorted(ledger.codebook_versions - versions)]
    lost += [
        f"imported project {p}"
        for p in ledger.imports
        if p not in stored.projects and p not in ledger.project_delete_sent
    ]
    lost += [
        f"deleted project {p} came back" for p in ledger.projects_deleted if p in stored.projects
    ]
    return lost


def check_whole(stored: Stored, ledger: Ledger, reference: tuple[ImportCounts, int]) -> list[str]:
    """Everything the database holds only part of, acknowledged or not."""
    half = [f"sqlite: {line}" for line in stored.integrity if line != "ok"]
    replaced = {r for _, _, _, r in stored.decisions if r is not None}
    gone_by_request = ledger.delete_sent | replaced
    half += [
        f"decision {decision_id} without its exemplar {exemplar_id}"
        for decision_id, _, exemplar_id, _ in stored.decisions
        if exemplar_id is not None
        and exemplar_id not in stored.exemplars
        and exemplar_id not in gone_by_request
    ]
    named = {e for _, _, e, _ in stored.decisions if e is not None}
    half += [
        f"exemplar {i} made by a decision that is not in the log"
        for i, (_, _, origin) in stored.exemplars.items()
        if origin == "decision" and i not in named
    ]
    half += [
        f"transcript {key} has {rows} of its {count} sentences"
        for key, (count, rows) in stored.transcripts.items()
        if rows != count or count == 0
    ]
    half += _half_batches(stored, ledger)
    half += _bad_codebooks(stored)
    half += _partial_imports(stored, reference)
    return half


def _half_batches(stored: Stored, ledger: Ledger) -> list[str]:
    texts = {text for project, text, _ in stored.exemplars.values() if project == PROJECT}
    maybe_deleted = {ledger.exemplar_texts.get(i) for i in ledger.delete_sent}
    half = []
    for batch in ledger.add_batches:
        present = [text in texts for text in batch if text not in maybe_deleted]
        if any(present) and not all(present):
            half.append(f"part of an exemplar batch stored: {batch}")
    return half


def _bad_codebooks(stored: Stored) -> list[str]:
    bad = []
    for project, version, body in stored.codebooks:
        try:
            actual = build_codebook(json.loads(body)).version
        except Exception as error:  # any failure to read it back is the finding
            bad.append(f"codebook {version} of {project} does not load: {error}")
            continue
        if actual != version:
            bad.append(f"codebook {version} of {project} holds version {actual}")
    with_codebook = {project for project, _, _ in stored.codebooks}
    bad += [f"project {p} has no codebook" for p in stored.projects if p not in with_codebook]
    return bad


def _partial_imports(stored: Stored, reference: tuple[ImportCounts, int]) -> list[str]:
    """Every imported project holds what one whole import of the sample stores."""
    counts, decisions = reference
    found = {p: [0, 0, 0, 0] for p in stored.projects if p.startswith(REFI_PREFIX)}
    for (project, _), (_, rows) in stored.transcripts.items():
        if project in found:
            found[project][0] += 1
            found[project][1] += rows
    for project, _, _ in stored.exemplars.values():
        if project in found:
            found[project][2] += 1
    for _, project, _, _ in stored.decisions:
        if project in found:
            found[project][3] += 1
    expected = [counts.transcripts, counts.sentences, counts.exemplars, decisions]
    return [
        f"imported project {p} holds (transcripts, sentences, exemplars, decisions) {got}, "
        f"a whole import {expected}"
        for p, got in sorted(found.items())
        if got != expected
    ]


def check_leftovers(stored: Stored, data_dir: Path) -> list[str]:
    """No index or batch results of a project the database no longer has (its sentences)."""
    return [
        f"files of the deleted project {folder.name} remain in {folder.parent.name}/"
        for parent in ("projects", "batches")
        for folder in sorted((data_dir / parent).glob("*"))
        if folder.is_dir() and folder.name not in stored.projects
    ]


def check_indexes(stored: Stored, data_dir: Path) -> list[str]:
    """Each project's saved index against the database: ids, vectors and change counter."""
    problems = []
    for project, counter in sorted(stored.projects.items()):
        folder = data_dir / "projects" / project
        ids = _ids_of(stored, project)
        try:
            index = ExemplarIndex.load(folder / INDEX_FOLDER, expected_model_id=MODEL_ID)
            state = json.loads((folder / STATE_FILE).read_text())
        except Exception as error:  # a missing or unreadable index is the finding
            problems.append(f"{project}: the saved index does not load: {error}")
            continue
        if not np.array_equal(index.ids(), ids):
            problems.append(f"{project}: index holds {len(index)} ids, database {len(ids)}")
        elif len(ids) and not np.array_equal(index.vectors_for(ids), _vectors(stored, ids)):
            problems.append(f"{project}: index vectors differ from the database's")
        if state.get("change_counter") != counter:
            problems.append(
                f"{project}: index at change {state.get('change_counter')}, database {counter}"
            )
    return problems


def check_server_counts(stored: Stored, url: str) -> list[str]:
    """The running server indexes as many exemplars as the database holds, per project."""
    problems = []
    for project in sorted(stored.projects):
        count = len(_ids_of(stored, project))
        answer = httpx.get(f"{url}/v1/projects/{project}", timeout=60)
        body = answer.json() if answer.status_code == 200 else {}
        if (body.get("exemplar_count"), body.get("index_exemplar_count")) != (count, count):
            problems.append(f"{project}: {count} stored; the server says {answer.text[:200]}")
    return problems


def _ids_of(stored: Stored, project: str) -> npt.NDArray[np.int64]:
    ids = sorted(i for i, row in stored.exemplars.items() if row[0] == project)
    return np.array(ids, dtype=np.int64)


def _vectors(stored: Stored, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    return np.stack([np.frombuffer(stored.embeddings[int(i)], dtype=np.float32) for i in ids])
