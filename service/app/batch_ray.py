"""Placeholder replaced by the Ray engine (issue 16, part 4)."""

from __future__ import annotations

from service.app.batch_coding import BatchRequest, BatchSummary
from service.app.batch_rows import CoderRecipe


def run_batch_ray(
    recipe: CoderRecipe, request: BatchRequest, *, address: str | None, workers: int
) -> BatchSummary:
    raise NotImplementedError("the Ray engine is being built")
