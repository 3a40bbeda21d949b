"""``POST /v1/projects/{id}/evaluations``: how far the machine agrees with this project's coders.

Runs the evaluation harness (``eval.harness``) synchronously on the project's exemplars: grouped
cross-validation over their groups (transcripts by default), on the embeddings already stored,
with small defaults (3 folds, knn, no learning curve) so it answers within the request. Keep it
for projects of modest size: the request holds a worker until the report is done.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from eval.report_model import Report
from service.api.deps import ProjectId, State
from service.api.problems import problem_responses
from service.api.schemas_suggest import EvaluationRequest
from service.app.evaluating import evaluate_stored_project

router = APIRouter(prefix="/v1/projects/{project_id}/evaluations", tags=["evaluations"])


@router.post(
    "",
    summary="Cross-validate suggestions against the project's own codings",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def evaluate_project(
    project_id: ProjectId,
    state: State,
    body: Annotated[EvaluationRequest | None, Body()] = None,
) -> Report:
    request = body or EvaluationRequest()
    return evaluate_stored_project(
        state,
        project_id,
        request.methods,
        folds=request.folds,
        seed=request.seed,
        max_train_units=request.max_train_units,
    )
