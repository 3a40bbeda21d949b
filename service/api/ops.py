"""Operations endpoints outside ``/v1``: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from service.api.deps import State, admin_access
from service.api.problems import problem_responses

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model_id: str
    embedding_dim: int


@router.get("/healthz", summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The model is loaded and the database answers",
    responses=problem_responses(503, inputs=False),
)
def readyz(state: State) -> Readiness:
    state.store.ping()  # StoreError -> 503
    return Readiness(
        status="ready", model_id=state.encoder.model_id, embedding_dim=state.encoder.dim
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (needs a key for every project when keys are required)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **problem_responses(401, 403, inputs=False),
    },
    dependencies=[Depends(admin_access("reading metrics"))],
)
def metrics(state: State) -> Response:
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
