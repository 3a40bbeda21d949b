"""Request and response bodies of batch runs (``/v1/projects/{id}/batches``)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from eval.report_model import TrustKind
from eval.trust import verdict_counts
from models import methods
from models.methods import Method
from service.api.request_model import RequestModel
from service.api.schemas_suggest import TRUST_HELP, DataWarningOut
from service.app.batch_jobs import BatchSpec
from service.store.batches import BatchRow, BatchState
from service.store.ids import TRANSCRIPT_ID_PATTERN

TranscriptIdText = Annotated[str, StringConstraints(pattern=TRANSCRIPT_ID_PATTERN)]


class BatchCreate(RequestModel):
    """Code the project's stored transcripts (all, or those named) in the background."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"transcript_ids": ["interview-03"], "format": "csv"}]},
    )

    transcript_ids: list[TranscriptIdText] | None = Field(
        default=None,
        min_length=1,
        max_length=100_000,
        description="the stored transcripts to code; omit for every stored transcript",
    )
    method: Method = Field(default=methods.DEFAULT_METHOD, description=methods.methods_help())
    top: int = Field(default=methods.DEFAULT_TOP, ge=1, le=50, description="codes ranked per unit")
    abstain_below: float = Field(
        default=0.0, ge=0.0, le=1.0, description="leave units below this confidence to a human"
    )
    code_speakers: list[str] | None = Field(default=None, min_length=1, max_length=100)
    skip_speakers: list[str] | None = Field(default=None, max_length=100)
    format: Literal["parquet", "csv"] = Field(default="parquet", description="of the result")

    def spec(self) -> BatchSpec:
        return BatchSpec(
            transcript_ids=None if self.transcript_ids is None else tuple(self.transcript_ids),
            method=self.method,
            top=self.top,
            abstain_below=self.abstain_below,
            speakers=None if self.code_speakers is None else tuple(self.code_speakers),
            skip_speakers=None if self.skip_speakers is None else tuple(self.skip_speakers),
            output_format=self.format,
        )


class BatchSummaryOut(BaseModel):
    sentences: int
    transcripts: int
    no_code: int
    abstained: int
    skipped: int
    code_counts: dict[str, int] = Field(description="sentences given each code")
    trust: dict[str, TrustKind] = Field(
        description="each codable code's verdict from the project's last evaluation of the "
        "batch's method (every code not_evaluated when there is none); " + TRUST_HELP
    )
    trust_counts: dict[TrustKind, int] = Field(
        description="how many codes got each verdict (every verdict named, 0 when none got it)"
    )
    model_id: str
    method: str
    warnings: list[DataWarningOut] = Field(
        default_factory=list,
        description="too little coded data for the codes to mean much (as in suggestions)",
    )


class BatchOut(BaseModel):
    id: str
    project_id: str
    state: BatchState
    transcripts_done: int
    transcripts_total: int
    sentences_done: int
    created_at: str
    finished_at: str | None
    error: str | None
    summary: BatchSummaryOut | None
    result_url: str | None = Field(description="where to download the result once done")

    @classmethod
    def of(cls, row: BatchRow) -> BatchOut:
        summary = None
        if row.summary is not None:
            fields = set(BatchSummaryOut.model_fields)
            stored = _with_verdict_counts(json.loads(row.summary))
            summary = BatchSummaryOut(**{k: v for k, v in stored.items() if k in fields})
        return cls(
            id=row.id,
            project_id=row.project_id,
            state=row.state,
            transcripts_done=row.items_done,
            transcripts_total=row.items_total,
            sentences_done=row.sentences_done,
            created_at=row.created_at,
            finished_at=row.finished_at,
            error=row.error,
            summary=summary,
            result_url=(
                f"/v1/projects/{row.project_id}/batches/{row.id}/result"
                if row.state == "done"
                else None
            ),
        )


_EARLIER_KINDS: dict[str, TrustKind] = {
    "trust": "machine_alone",
    "review": "suggest_only",
    "code by hand": "code_by_hand",
    "too few examples": "too_few_examples",
}
"""The verdicts' names before they were said plainly (kept summaries keep their verdicts)."""


def _with_verdict_counts(stored: dict[str, Any]) -> dict[str, Any]:
    """A summary kept before the verdicts were counted (null trust: never evaluated; earlier
    names for the verdicts) in the present shape, so an old batch still answers."""
    if "trust_counts" in stored:
        return stored
    earlier = stored.get("trust")
    trust: dict[str, TrustKind] = (
        dict.fromkeys(stored.get("code_counts", {}), "not_evaluated")
        if earlier is None
        else {code: _EARLIER_KINDS[kind] for code, kind in earlier.items()}
    )
    return {**stored, "trust": trust, "trust_counts": verdict_counts(trust.values())}
