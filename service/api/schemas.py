"""Request and response bodies of projects, codebooks, exemplars and transcripts.

One exception to "typed models only": a codebook in a request is a plain JSON object. It is
validated by :func:`codebook.loader.build_codebook`, exactly as the YAML files are, so that a
bad codebook gets every problem listed with its location in one response instead of the first
few type errors pydantic would stop at.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codebook.model import Codebook
from service.api.request_model import RequestModel, given_and_absent
from service.store.ids import PROJECT_ID_PATTERN

EXAMPLE_CODEBOOK: dict[str, Any] = {
    "name": "Threats",
    "codes": [
        {"id": "T", "name": "Threats", "codable": False},
        {
            "id": "T.1",
            "parent": "T",
            "name": "data poisoning",
            "definition": "Someone tampers with the training data.",
            "examples": ["They could slip fake samples into our training set."],
        },
        {"id": "T.2", "parent": "T", "name": "evasion", "examples": ["Inputs crafted to fool it."]},
    ],
}


ShippedCodebook = Literal[
    "interview",
    "drawing",
    "annomi-therapist",
    "annomi-client",
    "swda",
    "swda-nocode",
    "chatterbot-topics",
]
"""The names of codebook.loader.SHIPPED_CODEBOOKS (a test keeps the two equal)."""

_ONE_CODEBOOK_SOURCE: dict[str, Any] = {
    "oneOf": [
        given_and_absent({"codebook": {"type": "object"}}, absent=["shipped_codebook"]),
        given_and_absent({"shipped_codebook": {"type": "string"}}, absent=["codebook"]),
    ]
}


class CodebookSource(RequestModel):
    """A codebook given inline (JSON in intercoder's codebook format) or by shipped name."""

    model_config = ConfigDict(json_schema_extra=_ONE_CODEBOOK_SOURCE)

    codebook: dict[str, Any] | None = Field(
        default=None,
        description="A codebook in intercoder's format (the YAML format of the README, as "
        "JSON). Validated as a whole: a bad one gets every problem listed.",
        examples=[EXAMPLE_CODEBOOK],
    )
    shipped_codebook: ShippedCodebook | None = Field(
        default=None,
        description="The name of a codebook shipped with intercoder instead.",
        examples=["interview"],
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        if (self.codebook is None) == (self.shipped_codebook is None):
            raise ValueError("give exactly one of 'codebook' (inline) or 'shipped_codebook'")
        return self


class ProjectCreate(CodebookSource):
    """A new project and its first codebook."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **_ONE_CODEBOOK_SOURCE,
            "examples": [{"id": "study-1", "shipped_codebook": "interview"}],
        },
    )

    id: str | None = Field(
        default=None,
        pattern=PROJECT_ID_PATTERN,
        description="Lower-case letters, digits, '-' and '_'; generated when left out.",
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: the codebook's name."
    )


class ProjectOut(BaseModel):
    id: str = Field(examples=["study-1"])
    name: str
    created_at: str
    codebook_version: str = Field(description="version of the current codebook")
    exemplar_count: int = Field(description="coded exemplars stored")
    index_exemplar_count: int = Field(description="exemplars in the in-memory search index")
    change_counter: int = Field(
        description="changes to the exemplars so far (one per upload, decision or delete)"
    )


class ProjectPage(BaseModel):
    items: list[ProjectOut]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null: done")


class CodebookOut(BaseModel):
    project_id: str
    version: str = Field(description="first 16 hex digits of the sha256 of its content")
    codebook: Codebook


class CodebookVersionOut(BaseModel):
    number: int = Field(description="1 for the project's first codebook, then 2, 3...")
    version: str
    name: str
    code_count: int
    created_at: str
    current: bool


class CodebookVersionList(BaseModel):
    items: list[CodebookVersionOut]


class ExemplarIn(RequestModel):
    """One coded unit. Only transcript_id, text and codes are required."""

    transcript_id: str = Field(min_length=1, max_length=200, examples=["interview-03"])
    unit_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The unit's id within its transcript; default: derived from the text. "
        "A project holds one coding per (transcript_id, unit_id).",
    )
    text: str = Field(min_length=1, max_length=20_000)
    codes: list[str] = Field(
        max_length=200, description="code ids; empty means coded, no code applies"
    )
    speaker: str = Field(default="", max_length=200)
    coder: str = Field(default="coder", min_length=1, max_length=200)
    turn_index: int | None = Field(default=None, ge=0, le=1_000_000_000)
    previous_text: str | None = Field(
        default=None,
        max_length=20_000,
        description="the text of the unit before it (a project model reads it); default: the "
        "previous exemplar of the same transcript in this request, '' for the first",
    )
    group: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="unit of grouped cross-validation; default the transcript_id",
    )


class ExemplarBatch(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "exemplars": [
                        {
                            "transcript_id": "interview-03",
                            "text": "Someone could poison our training data.",
                            "codes": ["T.1"],
                        },
                        {"transcript_id": "interview-03", "text": "Thanks!", "codes": []},
                    ]
                }
            ]
        },
    )

    exemplars: list[ExemplarIn] = Field(min_length=1)


class ExemplarOut(BaseModel):
    id: int
    transcript_id: str
    unit_id: str
    turn_index: int
    speaker: str
    text: str
    codes: list[str]
    coder: str
    previous_text: str
    group: str
    origin: Literal["import", "decision"] = Field(
        description="import: added directly; decision: from an accepted or changed suggestion"
    )
    created_at: str


class ExemplarsAdded(BaseModel):
    project_id: str
    ids: list[int] = Field(description="ids of the new exemplars, in the order given")
    exemplar_count: int = Field(description="the project's exemplars after this request")


class ExemplarPage(BaseModel):
    items: list[ExemplarOut]
    next_cursor: str | None


class TranscriptOut(BaseModel):
    id: str = Field(examples=["interview-03"])
    filename: str
    format: str = Field(examples=["vtt"])
    turn_count: int
    sentence_count: int
    created_at: str


class SentenceOut(BaseModel):
    index: int = Field(description="position in the transcript, from 0")
    turn_index: int
    speaker: str
    text: str
    start: int = Field(description="offset in the transcript's text, code points")
    end: int = Field(description="end offset, exclusive")


class TranscriptDetail(TranscriptOut):
    text: str = Field(description="the plain text the offsets point into")
    sentences: list[SentenceOut]


class TranscriptPage(BaseModel):
    items: list[TranscriptOut]
    next_cursor: str | None
