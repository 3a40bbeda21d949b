"""REFI-QDA exchange (ATLAS.ti, NVivo, MAXQDA, QualCoder): import a project, export one.

``POST /v1/projects/import`` makes a new project from a ``.qdpx`` project (codebook,
transcripts, every coder's codings) or a ``.qdc`` codebook, all or nothing; it needs a key for
every project, like creating one. ``GET /v1/projects/{id}/export`` gives the project back as a
``.qdpx`` (optionally with the machine's codings as one more user) or its codebook as a ``.qdc``.
The work is shared with the CLI (``service.refi.importing``, ``service.refi.exporting``).
"""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from service.api.deps import ProjectId, State, admin_access
from service.api.problems import problem_responses
from service.api.projects import project_out
from service.api.schemas_refi import CoderOut, RefiImportOut
from service.refi.exporting import export_project
from service.refi.formats import ImportOptions, Include, RefiFormat
from service.refi.importing import import_refi_project, read_refi_bytes
from service.store.ids import PROJECT_ID_PATTERN

router = APIRouter(prefix="/v1/projects", tags=["refi-qda"])
MEDIA_TYPES = {RefiFormat.qdpx: "application/zip", RefiFormat.qdc: "application/xml"}
_MAX_LABEL = 200


@router.post(
    "/import",
    status_code=201,
    summary="Create a project from a REFI-QDA .qdpx project or .qdc codebook",
    responses=problem_responses(401, 403, 409, 413, 422),
    dependencies=[Depends(admin_access("importing a project"))],
)
def import_project(
    state: State,
    response: Response,
    file: Annotated[UploadFile, File(description="a .qdpx project or a .qdc codebook")],
    project_id: Annotated[
        str | None,
        Form(pattern=PROJECT_ID_PATTERN, description="the new project's id; default: generated"),
    ] = None,
    name: Annotated[
        str | None,
        Form(min_length=1, max_length=200, description="default: the file's project name"),
    ] = None,
    min_share: Annotated[
        float,
        Form(
            gt=0.0,
            le=1.0,
            description="a sentence takes a coder's code when that coder's selections cover "
            "at least this share of it",
        ),
    ] = 0.5,
    utf16_offsets: Annotated[
        bool,
        Form(description="the file counts offsets in UTF-16 units (NVivo for Windows)"),
    ] = False,
) -> RefiImportOut:
    label = PurePath(file.filename or "upload").name[:_MAX_LABEL]
    refi = read_refi_bytes(file.file.read(), label, ImportOptions(min_share, utf16_offsets))
    imported = import_refi_project(state, refi, project_id or uuid.uuid4().hex[:12], name)
    summary = imported.summary
    response.headers["Location"] = f"/v1/projects/{imported.project.id}"
    return RefiImportOut(
        project=project_out(state, imported.project),
        codes=summary.codes,
        categories=summary.categories,
        transcripts=summary.transcripts,
        sentences=summary.sentences,
        coders=[CoderOut(coder=c, coded_units=n) for c, n in summary.coded_units.items()],
        exemplars=imported.project.exemplar_count,
    )


@router.get(
    "/{project_id}/export",
    summary="Export the project as a REFI-QDA .qdpx project or its codebook as a .qdc",
    response_class=Response,
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES.values()
            },
            "description": "the file, as an attachment",
        },
        **problem_responses(401, 403, 404),
    },
)
def export(
    project_id: ProjectId,
    state: State,
    format: Annotated[RefiFormat, Query(description="qdpx: the project; qdc: the codebook")] = (
        RefiFormat.qdpx
    ),
    include: Annotated[
        Include,
        Query(
            description="human: the coders' codings; accepted: also the suggestions coders "
            "accepted, as the machine's; suggested: also the machine's suggestions for every "
            "sentence no coder coded (made now; slow on a large project)"
        ),
    ] = Include.human,
    utf16_offsets: Annotated[
        bool, Query(description="count offsets in UTF-16 units (NVivo for Windows)")
    ] = False,
) -> Response:
    content = export_project(
        state.store, project_id, format, include, utf16_offsets=utf16_offsets, service=state
    )
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{project_id}.{format.value}"'},
    )
