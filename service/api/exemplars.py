"""``/v1/projects/{id}/exemplars``: add coded units (JSON or CSV), list, read, delete, export.

Adding exemplars embeds them before the write transaction (encoding is slow and needs no lock),
then checks their codes against the codebook current *inside* the transaction, stores rows and
embeddings, bumps the project's change counter and, once committed, adds the vectors to the
project's index.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, File, Form, Path, Response, UploadFile

from codebook.coded import CodedUnit, coded_frame
from codebook.coded_csv import read_coded_csv
from service.api.deps import IdCursor, Limit, ProjectId, State, id_cursor, next_cursor
from service.api.problems import problem_responses
from service.api.schemas import ExemplarBatch, ExemplarIn, ExemplarOut, ExemplarPage, ExemplarsAdded
from service.app.exemplars import AddedExemplars, add_coded_frame, remove_exemplar
from service.app.exports import codings_csv
from service.store.exemplars import (
    get_exemplar,
    list_exemplars,
    text_unit_id,
)
from service.store.projects import current_codebook

router = APIRouter(prefix="/v1/projects/{project_id}", tags=["exemplars"])
ExemplarId = Annotated[int, Path(ge=1, le=2**62, description="The exemplar's id.")]


def _frame_from_json(exemplars: list[ExemplarIn]) -> pd.DataFrame:
    """Defaults as for a coded CSV: turn_index and previous_text from the request's order
    within each transcript."""
    positions: Counter[str] = Counter()
    last_text: dict[str, str] = {}
    units = []
    for exemplar in exemplars:
        position = positions[exemplar.transcript_id]
        positions[exemplar.transcript_id] += 1
        previous = exemplar.previous_text
        if previous is None:
            previous = last_text.get(exemplar.transcript_id, "")
        last_text[exemplar.transcript_id] = exemplar.text
        units.append(
            CodedUnit(
                transcript_id=exemplar.transcript_id,
                unit_id=exemplar.unit_id or text_unit_id(exemplar.text),
                turn_index=position if exemplar.turn_index is None else exemplar.turn_index,
                text=exemplar.text,
                codes=frozenset(exemplar.codes),
                speaker=exemplar.speaker,
                coder=exemplar.coder,
                previous_text=previous,
                group=exemplar.group,
            )
        )
    return coded_frame(units)


@router.post(
    "/exemplars",
    status_code=201,
    summary="Add coded exemplars (JSON)",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def add_exemplars(project_id: ProjectId, body: ExemplarBatch, state: State) -> ExemplarsAdded:
    return _added(project_id, add_coded_frame(state, project_id, _frame_from_json(body.exemplars)))


@router.post(
    "/exemplars/csv",
    status_code=201,
    summary="Add coded exemplars from a coded-units CSV upload",
    description="The CSV format of the README (transcript_id, text, codes; optional unit_id, "
    "speaker, coder, turn_index, previous_text, group). Every problem is listed with its row.",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def add_exemplars_csv(
    project_id: ProjectId,
    state: State,
    file: Annotated[UploadFile, File(description="a UTF-8 CSV file with a header row")],
    coder: Annotated[str | None, Form(max_length=200, description="coder for rows without")] = None,
) -> ExemplarsAdded:
    with state.store.read() as connection:
        codebook = current_codebook(connection, project_id)
    frame = read_coded_csv(io.BytesIO(file.file.read()), codebook, coder=coder or None)
    return _added(project_id, add_coded_frame(state, project_id, frame))


@router.get(
    "/exemplars",
    summary="List exemplars, oldest first",
    responses=problem_responses(401, 403, 404, 422),
)
def list_project_exemplars(
    project_id: ProjectId, state: State, limit: Limit = 50, cursor: IdCursor = None
) -> ExemplarPage:
    with state.store.read() as connection:
        rows = list_exemplars(connection, project_id, after=id_cursor(cursor), limit=limit)
    return ExemplarPage(
        items=[ExemplarOut.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
    )


@router.get(
    "/exemplars/{exemplar_id:int}",
    summary="Read one exemplar",
    responses=problem_responses(401, 403, 404),
)
def read_exemplar(project_id: ProjectId, exemplar_id: ExemplarId, state: State) -> ExemplarOut:
    with state.store.read() as connection:
        row = get_exemplar(connection, project_id, exemplar_id)
    return ExemplarOut.model_validate(row, from_attributes=True)


@router.delete(
    "/exemplars/{exemplar_id:int}",
    status_code=204,
    summary="Delete one exemplar (it leaves the index at once)",
    responses=problem_responses(401, 403, 404),
)
def delete_one_exemplar(project_id: ProjectId, exemplar_id: ExemplarId, state: State) -> Response:
    remove_exemplar(state, project_id, exemplar_id)
    return Response(status_code=204)


@router.get(
    "/codings.csv",
    summary="Export the project's codings as a coded-units CSV",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(401, 403, 404),
    },
)
def export_codings(project_id: ProjectId, state: State) -> Response:
    return Response(
        codings_csv(state, project_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{project_id}-codings.csv"'},
    )


def _added(project_id: str, added: AddedExemplars) -> ExemplarsAdded:
    return ExemplarsAdded(project_id=project_id, ids=added.ids, exemplar_count=added.count)
