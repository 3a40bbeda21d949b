"""What a suggester returns for one unit: ranked codes, the decision, and the evidence.

The same shape whatever the input: every unit gets a :class:`UnitSuggestion` with a ranked list
of :class:`CodeScore`, the decided codes (possibly none), the "no code" outcome and whether the
suggester abstained. Each code carries the nearest human-coded exemplars that support it and
the nearest that speak against it, so a coder sees why.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Evidence(BaseModel):
    """A coded exemplar near the unit, and how similar it is (cosine, -1..1)."""

    model_config = ConfigDict(frozen=True)

    exemplar_id: int
    text: str
    codes: list[str]
    similarity: float


class CodeScore(BaseModel):
    """One code's score for a unit, the threshold it is held to, and its evidence."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    score: float = Field(ge=0.0, le=1.0)
    threshold: float = Field(
        description="the score at which the code is suggested, calibrated on the exemplars; "
        "0 for codes of an exclusive category the head decides by its most likely class: "
        'its best code, or no code where the head learned "no code" as a class'
    )
    suggested: bool
    supporting: list[Evidence]
    opposing: list[Evidence]


class UnitSuggestion(BaseModel):
    """A suggester's answer for one unit (sentence or turn)."""

    model_config = ConfigDict(frozen=True)

    text: str
    suggested: list[str] = Field(description="decided codes, best first; empty for no code")
    codes: list[CodeScore] = Field(description="the highest-scoring codes, best first")
    no_code: bool = Field(description="the suggester decided that no code applies")
    no_code_score: float = Field(ge=0.0, le=1.0)
    no_code_evidence: list[Evidence]
    abstained: bool = Field(description="too unsure to decide: leave this unit to a human")
    confidence: float = Field(ge=0.0, le=1.0)
    method: str
    model_id: str
    codebook_version: str
    skipped: bool = Field(
        default=False,
        description="not coded at all: its speaker is not coded (the codebook's speaker roles "
        "or the caller's choice); no codes, no scores, no evidence",
    )

    @classmethod
    def skipped_unit(
        cls, text: str, *, method: str, model_id: str, codebook_version: str
    ) -> UnitSuggestion:
        """The answer for a unit left out by the speaker choice: the same shape, nothing in it."""
        return cls(
            text=text,
            suggested=[],
            codes=[],
            no_code=False,
            no_code_score=0.0,
            no_code_evidence=[],
            abstained=False,
            confidence=0.0,
            method=method,
            model_id=model_id,
            codebook_version=codebook_version,
            skipped=True,
        )
