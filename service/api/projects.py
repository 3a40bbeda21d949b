"""``/v1/projects``: create, list, read and delete projects; read and replace their codebook."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from codebook.loader import build_codebook
from codebook.model import Codebook
from service.api.deps import (
    Caller,
    Limit,
    ProjectCursor,
    ProjectId,
    State,
    admin_access,
    next_cursor,
)
from service.api.problems import problem_responses
from service.api.schemas import (
    CodebookOut,
    CodebookSource,
    CodebookVersionList,
    CodebookVersionOut,
    ProjectCreate,
    ProjectOut,
    ProjectPage,
)
from service.app.codebooks import shipped_codebook
from service.app.projects import create_project as new_project
from service.app.projects import remove_project, replace_project_codebook
from service.app.workspace import Workspace
from service.store.projects import (
    ProjectRow,
    codebook_by_version,
    codebook_versions,
    current_codebook,
    get_project,
    list_projects,
)

router = APIRouter(prefix="/v1/projects", tags=["projects"])


def resolve_codebook(source: CodebookSource) -> Codebook:
    """The inline codebook, validated as a whole, or the shipped one named."""
    if source.codebook is not None:
        return build_codebook(source.codebook)
    return shipped_codebook(str(source.shipped_codebook))


def project_out(state: Workspace, row: ProjectRow) -> ProjectOut:
    return ProjectOut(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        codebook_version=row.codebook_version,
        exemplar_count=row.exemplar_count,
        index_exemplar_count=len(state.indexes.get(row.id).index),
        change_counter=row.change_counter,
    )


@router.post(
    "",
    status_code=201,
    summary="Create a project with its codebook",
    responses=problem_responses(401, 403, 409, 413, 422),
    dependencies=[Depends(admin_access("creating a project"))],
)
def create_project(body: ProjectCreate, state: State, response: Response) -> ProjectOut:
    codebook = resolve_codebook(body)
    project_id = body.id or uuid.uuid4().hex[:12]
    row = new_project(state, project_id, body.name or codebook.name, codebook)
    response.headers["Location"] = f"/v1/projects/{project_id}"
    return project_out(state, row)


@router.get("", summary="List the projects the API key opens", responses=problem_responses(401))
def list_all(
    state: State, principal: Caller, limit: Limit = 50, cursor: ProjectCursor = None
) -> ProjectPage:
    with state.store.read() as connection:
        rows = list_projects(connection, after=cursor, limit=limit, only=principal.project_id)
    items = [project_out(state, row) for row in rows]
    return ProjectPage(
        items=items, next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit)
    )


@router.get("/{project_id}", summary="Read a project", responses=problem_responses(401, 403, 404))
def read_project(project_id: ProjectId, state: State) -> ProjectOut:
    with state.store.read() as connection:
        row = get_project(connection, project_id)
    return project_out(state, row)


@router.delete(
    "/{project_id}",
    status_code=204,
    summary="Delete a project and everything in it",
    responses=problem_responses(401, 403, 404),
)
def delete_one_project(project_id: ProjectId, state: State) -> Response:
    remove_project(state, project_id)
    return Response(status_code=204)


@router.get(
    "/{project_id}/codebook",
    summary="Read the project's current codebook",
    responses=problem_responses(401, 403, 404),
)
def read_codebook(project_id: ProjectId, state: State) -> CodebookOut:
    with state.store.read() as connection:
        codebook = current_codebook(connection, project_id)
    return CodebookOut(project_id=project_id, version=codebook.version, codebook=codebook)


@router.put(
    "/{project_id}/codebook",
    summary="Replace the project's codebook (the earlier versions are kept)",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def replace_codebook(project_id: ProjectId, body: CodebookSource, state: State) -> CodebookOut:
    codebook = resolve_codebook(body)
    replace_project_codebook(state, project_id, codebook)
    return CodebookOut(project_id=project_id, version=codebook.version, codebook=codebook)


@router.get(
    "/{project_id}/codebook/versions",
    summary="List every codebook the project has had",
    responses=problem_responses(401, 403, 404),
)
def list_codebook_versions(project_id: ProjectId, state: State) -> CodebookVersionList:
    with state.store.read() as connection:
        rows = codebook_versions(connection, project_id)
    return CodebookVersionList(
        items=[CodebookVersionOut(**vars(row)) for row in rows]  # dataclass -> model, same fields
    )


@router.get(
    "/{project_id}/codebook/versions/{version}",
    summary="Read an earlier (or the current) codebook by version",
    responses=problem_responses(401, 403, 404),
)
def read_codebook_version(
    project_id: ProjectId,
    version: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", examples=["3f2a9c0d1b7e4a56"])],
    state: State,
) -> CodebookOut:
    with state.store.read() as connection:
        codebook = codebook_by_version(connection, project_id, version)
    return CodebookOut(project_id=project_id, version=codebook.version, codebook=codebook)
