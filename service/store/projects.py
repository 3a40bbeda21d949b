"""Projects and their versioned codebooks in the service's database."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass

from codebook.model import Codebook
from service.errors import ConflictError, NotFoundError
from service.store.database import now
from service.store.ids import RESERVED_PROJECT_IDS


@dataclass(frozen=True)
class ProjectRow:
    id: str
    name: str
    uid: str
    """Random per project incarnation: a saved index of a deleted namesake never matches it."""
    change_counter: int
    created_at: str
    codebook_version: str
    exemplar_count: int


@dataclass(frozen=True)
class CodebookVersionRow:
    number: int
    """1 for the project's first codebook, then 2, 3... in the order they were set."""
    version: str
    name: str
    code_count: int
    created_at: str
    current: bool


_PROJECT_SELECT = """
    SELECT p.id, p.name, p.uid, p.change_counter, p.created_at,
           (SELECT version FROM codebooks c WHERE c.project_id = p.id ORDER BY c.id DESC LIMIT 1),
           (SELECT COUNT(*) FROM exemplars e WHERE e.project_id = p.id)
    FROM projects p
"""


def _project(row: tuple[object, ...]) -> ProjectRow:
    project_id, name, uid, counter, created, version, count = row
    return ProjectRow(
        id=str(project_id),
        name=str(name),
        uid=str(uid),
        change_counter=int(counter),  # type: ignore[call-overload]
        created_at=str(created),
        codebook_version=str(version),
        exemplar_count=int(count),  # type: ignore[call-overload]
    )


def insert_project(
    connection: sqlite3.Connection, project_id: str, name: str, codebook: Codebook
) -> ProjectRow:
    """A new project with its first codebook; ConflictError if the id is taken."""
    if project_id in RESERVED_PROJECT_IDS:
        raise ConflictError(
            f"{project_id!r} names a route of the API (/v1/projects/{project_id}), so it cannot "
            "be a project id; choose another id"
        )
    if _exists(connection, project_id):
        raise ConflictError(
            f"a project with id {project_id!r} already exists; choose another id, or delete "
            "that project first"
        )
    connection.execute(
        "INSERT INTO projects (id, name, uid, created_at) VALUES (?, ?, ?, ?)",
        (project_id, name, uuid.uuid4().hex, now()),
    )
    add_codebook(connection, project_id, codebook)
    return get_project(connection, project_id)


def get_project(connection: sqlite3.Connection, project_id: str) -> ProjectRow:
    row = connection.execute(f"{_PROJECT_SELECT} WHERE p.id = ?", (project_id,)).fetchone()
    if row is None:
        raise project_not_found(project_id)
    return _project(row)


def project_not_found(project_id: str) -> NotFoundError:
    return NotFoundError(
        f"there is no project {project_id!r}; list the projects with GET /v1/projects"
    )


def list_projects(
    connection: sqlite3.Connection, *, after: str | None, limit: int, only: str | None
) -> list[ProjectRow]:
    """Projects in id order after the cursor; ``only`` limits them to one project id."""
    clauses, parameters = ["p.id > ?"], [after or ""]
    if only is not None:
        clauses.append("p.id = ?")
        parameters.append(only)
    rows = connection.execute(
        f"{_PROJECT_SELECT} WHERE {' AND '.join(clauses)} ORDER BY p.id LIMIT ?",
        (*parameters, limit),
    ).fetchall()
    return [_project(row) for row in rows]


def all_projects(connection: sqlite3.Connection) -> list[ProjectRow]:
    return [_project(row) for row in connection.execute(f"{_PROJECT_SELECT} ORDER BY p.id")]


def delete_project(connection: sqlite3.Connection, project_id: str) -> None:
    """Delete the project and everything in it (the schema cascades)."""
    require_project(connection, project_id)
    connection.execute("DELETE FROM projects WHERE id = ?", (project_id,))


def bump_change_counter(connection: sqlite3.Connection, project_id: str) -> int:
    """Count one more change to the project's exemplars; returns the new counter."""
    row = connection.execute(
        "UPDATE projects SET change_counter = change_counter + 1 WHERE id = ? "
        "RETURNING change_counter",
        (project_id,),
    ).fetchone()
    if row is None:
        raise project_not_found(project_id)
    return int(row[0])


def require_project(connection: sqlite3.Connection, project_id: str) -> None:
    """NotFoundError unless the project exists (cheaper than get_project)."""
    if not _exists(connection, project_id):
        raise project_not_found(project_id)


def _exists(connection: sqlite3.Connection, project_id: str) -> bool:
    found = connection.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone()
    return found is not None


# ----- codebooks ---------------------------------------------------------------------------


def add_codebook(connection: sqlite3.Connection, project_id: str, codebook: Codebook) -> bool:
    """Make ``codebook`` the project's current one; False when it already is (nothing added)."""
    if _current_version(connection, project_id) == codebook.version:
        return False
    body = json.dumps(codebook.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    connection.execute(
        "INSERT INTO codebooks (project_id, version, body, created_at) VALUES (?, ?, ?, ?)",
        (project_id, codebook.version, body, now()),
    )
    return True


def current_codebook(connection: sqlite3.Connection, project_id: str) -> Codebook:
    row = connection.execute(
        "SELECT body FROM codebooks WHERE project_id = ? ORDER BY id DESC LIMIT 1", (project_id,)
    ).fetchone()
    if row is None:
        raise project_not_found(project_id)
    return _codebook(str(row[0]))


def codebook_by_version(connection: sqlite3.Connection, project_id: str, version: str) -> Codebook:
    row = connection.execute(
        "SELECT body FROM codebooks WHERE project_id = ? AND version = ? ORDER BY id DESC",
        (project_id, version),
    ).fetchone()
    if row is None:
        require_project(connection, project_id)
        raise NotFoundError(
            f"project {project_id!r} never had codebook version {version!r}; list its versions "
            f"with GET /v1/projects/{project_id}/codebook/versions"
        )
    return _codebook(str(row[0]))


def codebook_versions(connection: sqlite3.Connection, project_id: str) -> list[CodebookVersionRow]:
    """Every codebook the project has had, oldest first."""
    require_project(connection, project_id)
    rows = connection.execute(
        "SELECT version, body, created_at FROM codebooks WHERE project_id = ? ORDER BY id",
        (project_id,),
    ).fetchall()
    versions = []
    for number, (version, body, created) in enumerate(rows, start=1):
        book = _codebook(str(body))
        versions.append(
            CodebookVersionRow(
                number=number,
                version=str(version),
                name=book.name,
                code_count=len(book.codable_ids),
                created_at=str(created),
                current=number == len(rows),
            )
        )
    return versions


def current_codebook_version(connection: sqlite3.Connection, project_id: str) -> str:
    """The current codebook's version, without parsing the codebook."""
    version = _current_version(connection, project_id)
    if version is None:
        raise project_not_found(project_id)
    return version


def _current_version(connection: sqlite3.Connection, project_id: str) -> str | None:
    row = connection.execute(
        "SELECT version FROM codebooks WHERE project_id = ? ORDER BY id DESC LIMIT 1",
        (project_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def _codebook(body: str) -> Codebook:
    # The body was validated by build_codebook before it was stored; this only re-creates it.
    return Codebook.model_validate(json.loads(body))
