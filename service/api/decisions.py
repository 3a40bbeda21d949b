"""``/v1/projects/{id}/decisions``: coders accept, reject or change suggestions.

An accepted or changed coding becomes an exemplar in the same transaction as its decision, and
joins the project's index right after the commit, so the very next suggestion learns from it.
A unit has one exemplar: a later decision on it replaces the earlier exemplar (the decision log
keeps both decisions). A rejection names no coding, so it only goes into the log.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import IdCursor, Limit, ProjectId, State, id_cursor, next_cursor
from service.api.problems import problem_responses
from service.api.schemas_suggest import DecisionIn, DecisionOut, DecisionPage
from service.app.deciding import Decision, record_decision
from service.store.decisions import list_decisions

router = APIRouter(prefix="/v1/projects/{project_id}/decisions", tags=["decisions"])


@router.post(
    "",
    status_code=201,
    summary="Record a coder's decision on a suggestion",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def record_project_decision(project_id: ProjectId, body: DecisionIn, state: State) -> DecisionOut:
    decision = Decision(
        **body.model_dump(exclude={"suggested", "codes"}),
        suggested=tuple(body.suggested),
        codes=None if body.codes is None else tuple(body.codes),
    )
    row = record_decision(state, project_id, decision)
    return DecisionOut.model_validate(row, from_attributes=True)


@router.get(
    "",
    summary="List the decision log, oldest first",
    responses=problem_responses(401, 403, 404, 422),
)
def list_project_decisions(
    project_id: ProjectId, state: State, limit: Limit = 50, cursor: IdCursor = None
) -> DecisionPage:
    with state.store.read() as connection:
        rows = list_decisions(connection, project_id, after=id_cursor(cursor), limit=limit)
    return DecisionPage(
        items=[DecisionOut.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
    )
