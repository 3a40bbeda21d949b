"""``/v1/projects/{id}/batches``: code a project's stored transcripts in the background.

The service's ``intercoder code``: POST answers 202 at once with the batch to poll; GET it
until its state is ``done`` (or ``failed``), then download its result, Parquet or CSV, one row
per sentence. Runs go one at a time through the same application code as the command line
(``service.app.batch_jobs``), and a service stopped mid-run resumes it at the next start.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import FileResponse

from service.api.deps import ProjectId, State
from service.api.problems import problem_responses
from service.api.schemas_batch import BatchCreate, BatchOut
from service.app.batch_jobs import batch_result, batch_status, project_batches, submit_batch

router = APIRouter(prefix="/v1/projects/{project_id}/batches", tags=["batches"])
BatchId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The batch's id.")]
_MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8"}


@router.post(
    "",
    status_code=202,
    summary="Start coding the project's stored transcripts; poll the batch returned",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def create_batch(
    project_id: ProjectId,
    state: State,
    response: Response,
    body: Annotated[BatchCreate | None, Body()] = None,
) -> BatchOut:
    row = submit_batch(state, project_id, (body or BatchCreate()).spec())
    response.headers["Location"] = f"/v1/projects/{project_id}/batches/{row.id}"
    return BatchOut.of(row)


@router.get("", summary="The project's batches", responses=problem_responses(401, 403, 404))
def list_project_batches(project_id: ProjectId, state: State) -> list[BatchOut]:
    return [BatchOut.of(row) for row in project_batches(state, project_id)]


@router.get(
    "/{batch_id}",
    summary="Where a batch stands: its state, progress and, once done, its summary",
    responses=problem_responses(401, 403, 404),
)
def get_batch(project_id: ProjectId, batch_id: BatchId, state: State) -> BatchOut:
    return BatchOut.of(batch_status(state, project_id, batch_id))


@router.get(
    "/{batch_id}/result",
    summary="Download a finished batch's coded sentences (Parquet or CSV)",
    response_class=FileResponse,
    responses={
        200: {"content": {media: {} for media in _MEDIA_TYPES.values()}},
        **problem_responses(401, 403, 404, 409),
    },
)
def get_batch_result(project_id: ProjectId, batch_id: BatchId, state: State) -> FileResponse:
    path, output_format = batch_result(state, project_id, batch_id)
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[output_format],
        filename=f"{project_id}-batch-{batch_id[:8]}.{output_format}",
    )
