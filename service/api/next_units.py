"""``GET /v1/projects/{id}/next``: the uncoded sentences whose coding would teach the project's
coder most ("code these next"), over :func:`service.app.next_units.next_units`."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Query

from models.methods import DEFAULT_NEXT, MAX_NEXT
from service.api.deps import ProjectId, State
from service.api.problems import problem_responses
from service.api.schemas_next import NextUnitsOut
from service.app.next_units import next_units

router = APIRouter(prefix="/v1/projects/{project_id}", tags=["suggestions"])


@router.get(
    "/next",
    summary="The uncoded sentences to code next: the coder's most uncertain, spread out",
    responses=problem_responses(401, 403, 404, 422),
)
def code_these_next(
    project_id: ProjectId,
    state: State,
    n: Annotated[
        int, Query(ge=1, le=MAX_NEXT, description="how many sentences to rank")
    ] = DEFAULT_NEXT,
    seed: Annotated[
        int, Query(ge=0, le=2**32 - 1, description="seed of the clustering that spreads picks")
    ] = 0,
) -> NextUnitsOut:
    ranked = next_units(state, project_id, n, seed=seed)
    return NextUnitsOut.model_validate(dataclasses.asdict(ranked))
