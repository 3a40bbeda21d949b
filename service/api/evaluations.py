"""``POST /v1/projects/{id}/evaluations``: how far the machine agrees with this project's coders.

Runs the evaluation harness (``eval.harness``) synchronously on the project's exemplars: grouped
cross-validation over their groups (transcripts by default), on the embeddings already stored,
with small defaults (3 folds, knn, no learning curve) so it answers within the request. Keep it
for projects of modest size: the request holds a worker until the report is done.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from codebook.errors import InputError
from eval.crossval import EvalData
from eval.harness import EvalOptions, evaluate
from eval.inputs import EvalInput
from eval.methods import method_by_name
from eval.report_model import Report
from service.api.deps import ProjectId, State
from service.api.schemas_suggest import EvaluationRequest
from service.problems import problem_responses
from service.store_exemplars import all_exemplars, coded_units, exemplar_vectors
from service.store_projects import current_codebook

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
    with state.store.read() as connection:
        codebook = current_codebook(connection, project_id)
        rows = all_exemplars(connection, project_id)
        _, vectors = exemplar_vectors(connection, project_id, state.encoder.dim)
    groups = tuple(row.group for row in rows)
    distinct = len(set(groups))
    if distinct < 2:
        raise InputError(
            f"an evaluation holds out whole transcripts (groups), so it needs exemplars from at "
            f"least 2 of them; project {project_id!r} has {distinct}; code more transcripts"
        )
    frame = coded_units(rows)
    data = EvalData(
        codebook=codebook,
        frame=frame,
        vectors=vectors,
        model_id=state.encoder.model_id,
        groups=groups,
    )
    folds = min(request.folds, distinct)
    options = EvalOptions(
        n_folds=folds,
        seed=request.seed,
        max_train_units=request.max_train_units,
        learning_method=None,
        grouping="group",
        notes=(f"evaluated by the service on project {project_id!r} with {folds} folds",),
    )
    source = EvalInput(f"project {project_id}", codebook, frame, None, None)
    methods = [method_by_name(name) for name in dict.fromkeys(request.methods)]
    return evaluate(source, data, methods, options)
