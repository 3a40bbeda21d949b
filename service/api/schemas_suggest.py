"""Request and response bodies of suggestions, decisions and evaluations.

A suggestion has the shape annotation tools expect of a prediction: each code comes with its
``score``, the ``agent`` that made it (the embedding model's id) and its ``evidence`` (the
nearest human-coded exemplars that carry it, and those that do not).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from eval.report_model import TrustKind, TrustVerdict
from eval.trust import DEFAULT_HUMAN_KAPPA, MIN_HUMAN_UNITS, SUGGEST_KAPPA
from models import methods
from models.data_warnings import MIN_CODED_PER_CODE, DataWarning, WarningKind
from models.methods import Method
from service.api.request_model import SOME_TEXT, RequestModel, given_and_absent

MAX_INDEX = 1_000_000_000
"""The largest sentence index or count a request may name: far above any transcript, and
within SQLite's 64-bit integers (an unbounded one was a 500 from the database driver)."""

EvaluationMethod = Literal["knn", "prototype", "linear", "blend", "logreg", "tfidf-5nn", "majority"]


class SuggestOptions(RequestModel):
    """How to suggest: the method and its knobs."""

    model_config = ConfigDict(extra="forbid")

    method: Method = Field(
        default=methods.DEFAULT_METHOD,
        description=methods.methods_help() + ". A project without exemplars always gets the "
        "prototype cold start from its codebook.",
    )
    k: int = Field(
        default=methods.DEFAULT_K, ge=1, le=100, description="neighbours that vote (knn, blend)"
    )
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="one score threshold for every code instead of the calibrated ones",
    )
    abstain_below: float = Field(
        default=0.0, ge=0.0, le=1.0, description="leave units below this confidence to a human"
    )
    top: int = Field(default=methods.DEFAULT_TOP, ge=1, le=50, description="codes ranked per unit")
    evidence: int = Field(
        default=methods.DEFAULT_EVIDENCE, ge=0, le=20, description="exemplars shown for and against"
    )
    code_speakers: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="code only these speakers' units (others come back skipped); replaces the "
        "codebook's speaker roles",
    )
    skip_speakers: list[str] | None = Field(
        default=None,
        max_length=100,
        description="skip these speakers' units instead of the codebook's speakers.skip "
        "([] codes everyone)",
    )

    def per_call(self) -> methods.SuggestOptions:
        """The options the coder takes for one call."""
        return methods.SuggestOptions(
            top=self.top,
            evidence=self.evidence,
            abstain_below=self.abstain_below,
            threshold=self.threshold,
            speakers=None if self.code_speakers is None else tuple(self.code_speakers),
            skip_speakers=None if self.skip_speakers is None else tuple(self.skip_speakers),
        )


class SentencesSuggestRequest(SuggestOptions):
    """Ad-hoc sentences, not stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sentences": ["Someone could tamper with our training data."]},
                {
                    "sentences": ["Someone could tamper with our training data."],
                    "speakers": ["P3"],
                    "previous_texts": ["What worries you about your models?"],
                },
            ]
        },
    )

    sentences: list[Annotated[str, StringConstraints(pattern=SOME_TEXT)]] = Field(
        min_length=1,
        description="at most max_batch_sentences (a setting) per request; each with some text "
        "(not only white space)",
    )
    speakers: list[str] | None = Field(
        default=None,
        description="each sentence's speaker, one per sentence ('' for none); a project model "
        "reads it with the sentence, the bundled model ignores it",
    )
    previous_texts: list[str] | None = Field(
        default=None,
        description="the text of the unit said just before each sentence, one per sentence "
        "('' for none); a project model reads it with the sentence, the bundled model ignores it",
    )

    @model_validator(mode="after")
    def _one_context_each(self) -> Self:
        count = len(self.sentences)
        for name, values in (("speakers", self.speakers), ("previous_texts", self.previous_texts)):
            if values is not None and len(values) != count:
                raise ValueError(
                    f"{name} has {len(values)} entries but sentences has {count}; give one "
                    f"per sentence ('' for none), or leave {name} out"
                )
        return self


class TranscriptSuggestRequest(SuggestOptions):
    """A stored transcript's sentences, all or a range of them."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"method": "linear", "offset": 0}]}
    )

    offset: int = Field(default=0, ge=0, le=MAX_INDEX, description="first sentence index")
    limit: int | None = Field(
        default=None, ge=1, le=MAX_INDEX, description="sentences from offset; all"
    )


class EvidenceOut(BaseModel):
    exemplar_id: int = Field(description="negative: a text of the codebook itself (cold start)")
    text: str
    codes: list[str]
    similarity: float = Field(description="cosine similarity to the unit, -1..1")


TRUST_HELP = (
    "the code's trust verdict from the project's last evaluation of the method that answered: "
    f"machine_alone (the low end of the code's 95% kappa interval reaches the human level: the "
    f"evaluation's human reference kappa, at least {SUGGEST_KAPPA}, else {DEFAULT_HUMAN_KAPPA}), "
    f"suggest_only (kappa >= {SUGGEST_KAPPA}), code_by_hand (below), too_few_examples (fewer "
    f"than {MIN_HUMAN_UNITS} human-coded units), not_evaluated (no evaluation of this method "
    "covers the code)"
)


class CodeSuggestion(BaseModel):
    code: str
    name: str
    score: float = Field(ge=0.0, le=1.0)
    threshold: float
    suggested: bool = Field(description="the score reaches the threshold and no abstention")
    trust: TrustKind = Field(description=TRUST_HELP)
    agent: str = Field(description="the embedding model (id and weights hash) behind the score")
    evidence: list[EvidenceOut] = Field(description="nearest exemplars carrying this code")
    opposing: list[EvidenceOut] = Field(description="nearest exemplars without it")


class UnitOut(BaseModel):
    text: str
    transcript_id: str | None = None
    sentence_index: int | None = None
    turn_index: int | None = None
    speaker: str | None = None
    start: int | None = None
    end: int | None = None


class UnitSuggestions(BaseModel):
    unit: UnitOut
    suggested: list[str] = Field(description="decided codes, best first; empty for no code")
    no_code: bool
    no_code_score: float
    no_code_evidence: list[EvidenceOut]
    abstained: bool
    confidence: float
    skipped: bool = Field(
        description="not coded: its speaker is not coded (the codebook's speaker roles or "
        "code_speakers/skip_speakers); no codes, scores or evidence"
    )
    suggestions: list[CodeSuggestion] = Field(description="highest-scoring codes, best first")


class CodeCoverageOut(BaseModel):
    code: str
    coded: int = Field(description="coded sentences (exemplars) carrying the code")
    more_needed: int = Field(
        description=f"how many more it needs to reach {MIN_CODED_PER_CODE}, below which its "
        "suggestions mean little"
    )


class DataWarningOut(BaseModel):
    """Something to know about the data behind the suggestions."""

    kind: WarningKind = Field(
        description="cold_start: no coded sentences, suggested from the codebook alone; "
        f"thin_codes: codes with fewer than {MIN_CODED_PER_CODE} coded sentences; "
        "dominant_code: one code suggested on most of these units, far more often than the "
        "team used it"
    )
    message: str = Field(description="one line for people, with the counts")
    codes: list[CodeCoverageOut] = Field(description="the codes concerned")

    @classmethod
    def of(cls, warning: DataWarning) -> DataWarningOut:
        return cls.model_validate(warning.as_json())


class SuggestionsOut(BaseModel):
    project_id: str
    method: str = Field(description="the method that answered (prototype in the cold start)")
    agent: str
    codebook_version: str
    cold_start: bool = Field(description="no exemplars yet: suggested from the codebook alone")
    exemplar_count: int = Field(description="exemplars the suggester was fitted on")
    warnings: list[DataWarningOut] = Field(
        description="too little coded data for the suggestions to mean much, and why"
    )
    trust: dict[str, TrustVerdict] = Field(
        description="every codable code's trust verdict, in plain words with its thresholds "
        "(the same in every response: not_evaluated until the project is evaluated with the "
        "method that answered); " + TRUST_HELP
    )
    units: list[UnitSuggestions]


_DECISION_UNITS = [
    given_and_absent(
        {"transcript_id": {"type": "string"}, "sentence_index": {"type": "integer"}},
        absent=["text", "speaker", "previous_text"],
    ),
    given_and_absent({"text": {"type": "string"}}, absent=["transcript_id", "sentence_index"]),
]
_DECISION_CODES = [
    given_and_absent({"action": {"const": "change"}, "codes": {"type": "array"}}, absent=[]),
    given_and_absent({"action": {"enum": ["accept", "reject"]}}, absent=["codes"]),
]


_DECISION_RULES: dict[str, Any] = {
    "allOf": [{"oneOf": _DECISION_UNITS}, {"oneOf": _DECISION_CODES}]
}
"""The rules between a decision's fields, in the schema too: one unit, codes with a change."""


class DecisionIn(RequestModel):
    """A coder's decision on a suggestion for one unit.

    The unit is a stored sentence (transcript_id and sentence_index; its speaker and previous
    sentence come from the transcript) or an ad-hoc text (optionally with its speaker and
    previous_text, kept with the exemplar it becomes). accept: the suggested codes are right;
    change: ``codes`` are; reject: the suggestion is wrong (no coding is recorded). Accepted and
    changed codings become exemplars at once; a later decision on the same unit replaces its
    exemplar. Every decision stays in the log.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            **_DECISION_RULES,
            "examples": [
                {
                    "action": "change",
                    "coder": "ana",
                    "text": "Someone could tamper with our training data.",
                    "suggested": ["T.2"],
                    "codes": ["T.1"],
                }
            ],
        },
    )

    action: Literal["accept", "reject", "change"]
    coder: str = Field(min_length=1, max_length=200)
    transcript_id: str | None = Field(default=None, min_length=1, max_length=200)
    sentence_index: int | None = Field(default=None, ge=0, le=MAX_INDEX)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    speaker: str | None = Field(default=None, max_length=200, description="with text only")
    previous_text: str | None = Field(
        default=None, max_length=20_000, description="with text only: the unit said before it"
    )
    suggested: list[str] = Field(default_factory=list, max_length=200)
    codes: list[str] | None = Field(default=None, max_length=200)
    method: str | None = Field(default=None, max_length=50)
    agent: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _one_unit_and_codes_when_changed(self) -> Self:
        stored = self.transcript_id is not None or self.sentence_index is not None
        if stored and (self.transcript_id is None or self.sentence_index is None):
            raise ValueError("a stored sentence needs both transcript_id and sentence_index")
        if stored == (self.text is not None):
            raise ValueError("give either transcript_id with sentence_index, or text")
        if stored and (self.speaker is not None or self.previous_text is not None):
            raise ValueError(
                "speaker and previous_text go with an ad-hoc text; a stored sentence's come "
                "from its transcript"
            )
        if self.action == "change" and self.codes is None:
            raise ValueError("a change needs 'codes', the coding the coder chose")
        if self.action != "change" and self.codes is not None:
            raise ValueError("'codes' belongs to a change; accept takes the suggested codes")
        return self


class DecisionOut(BaseModel):
    id: int
    action: Literal["accept", "reject", "change"]
    coder: str
    transcript_id: str | None
    sentence_index: int | None
    text: str
    suggested: list[str]
    codes: list[str] | None = Field(description="the coding settled on; null for a rejection")
    method: str | None
    agent: str | None
    codebook_version: str
    exemplar_id: int | None = Field(description="the exemplar this decision created")
    replaced_exemplar_id: int | None = Field(description="the earlier exemplar it replaced")
    created_at: str


class DecisionPage(BaseModel):
    items: list[DecisionOut]
    next_cursor: str | None


class EvaluationRequest(RequestModel):
    """Cross-validate methods on the project's own exemplars (small, synchronous)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"methods": ["knn", "majority"], "folds": 3}]},
    )

    methods: list[EvaluationMethod] = Field(default=["linear"], min_length=1)
    folds: int = Field(
        default=3, ge=2, le=10, description="grouped folds (at most the number of groups)"
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    max_train_units: int | None = Field(default=None, ge=10, le=1_000_000)
