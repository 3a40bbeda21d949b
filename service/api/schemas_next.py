"""Response body of "code these next" (``GET /v1/projects/{id}/next``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class NextUnitOut(BaseModel):
    """One uncoded sentence to code next, and why it was chosen."""

    transcript_id: str
    sentence_index: int = Field(description="the sentence's index in its transcript, from 0")
    speaker: str
    text: str
    score: float = Field(
        description="what it was ranked by, in [0, 1]: the coder's uncertainty, or while few "
        "sentences are coded its distance from anything coded"
    )
    reason: Literal["uncertain", "unlike coded"]
    why: str = Field(examples=["uncertain between question and reflection"])
    codes: list[str] = Field(description="the codes the coder is torn between, best first")
    novelty: float = Field(description="cosine distance to the nearest coded sentence, 0 to 1")
    represents: int = Field(description="how many ranked candidates its pick stands for")


class NextUnitsOut(BaseModel):
    project_id: str
    method: str
    exemplar_count: int
    by_diversity_alone: bool = Field(
        description="true while too few sentences are coded for the coder's own doubt to rank"
    )
    candidates: int = Field(description="the uncoded, undecided sentences that were ranked")
    units: list[NextUnitOut] = Field(description="most informative first")
