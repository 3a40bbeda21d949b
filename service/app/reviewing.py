"""Use cases of the review page: a transcript's sentences with the machine's suggestions and
the humans' codings, one sentence's suggestions with their evidence, a coder's decision on a
sentence (through :func:`service.app.deciding.record_undoable_decision`) and taking one back.

A sentence is ``coded`` once a human coded it (its exemplar) or rejected the suggestions (the
latest decision on it is a rejection), ``to review`` while the machine suggests codes no human
has decided on, ``left`` when the machine suggests nothing, and ``skipped`` when its speaker is
not coded (the codebook's speaker roles).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codebook.model import Codebook
from eval.report_model import TrustVerdict
from eval.trust import short_text
from models.context import preceding_texts, units_of
from models.methods import SuggestOptions
from models.suggestions import UnitSuggestion
from service.app.deciding import Decision, record_undoable_decision
from service.app.exemplars import remove_exemplar
from service.app.page_sessions import UndoStep
from service.app.suggesting import SuggestionBatch, suggest_for_units
from service.app.workspace import Workspace
from service.errors import ConflictError, NotFoundError
from service.store.projects import current_codebook
from service.store.review import (
    HumanCoding,
    LatestDecision,
    latest_decisions,
    transcript_codings,
)
from service.store.transcripts import get_transcript, sentences

Status = Literal["coded", "to review", "left", "skipped"]
RANKED_CODES = 9
"""Codes ranked for the sentence in focus: the keys 1-9 toggle them."""
_IN_FOCUS = SuggestOptions(top=RANKED_CODES, evidence=3)
_LISTED = SuggestOptions(top=3, evidence=0)
"""The list shows each sentence's codes and best score, no evidence."""


@dataclass(frozen=True)
class ReviewFilter:
    """Which sentences the list shows (all when nothing is set)."""

    code: str | None = None
    """Suggested by the machine or given by a human."""
    min_score: float | None = None
    max_score: float | None = None
    """Bounds on the best code's score."""
    disagreement: bool = False
    """Only sentences whose human coding differs from the machine's suggestion."""
    status: Status | None = None

    def keeps(self, view: SentenceView) -> bool:
        codes = {*view.suggested, *(view.human_codes or ())}
        return (
            (self.code is None or self.code in codes)
            and (self.min_score is None or view.top_score >= self.min_score)
            and (self.max_score is None or view.top_score <= self.max_score)
            and (not self.disagreement or view.disagrees)
            and (self.status is None or view.status == self.status)
        )


@dataclass(frozen=True)
class SentenceView:
    index: int
    turn_index: int
    speaker: str
    text: str
    suggested: tuple[str, ...]
    top_score: float
    human_codes: tuple[str, ...] | None
    rejected: bool
    skipped: bool

    @property
    def status(self) -> Status:
        if self.human_codes is not None or self.rejected:
            return "coded"
        if self.skipped:
            return "skipped"
        return "to review" if self.suggested else "left"

    @property
    def disagrees(self) -> bool:
        return self.human_codes is not None and set(self.human_codes) != set(self.suggested)

    @property
    def coding(self) -> tuple[str, ...]:
        """What the sentence is coded with now: the human's codes, else none once a human
        rejected the machine's, else the machine's."""
        if self.human_codes is not None:
            return self.human_codes
        return () if self.rejected else self.suggested


@dataclass(frozen=True)
class Progress:
    coded: int
    to_review: int
    left: int
    skipped: int

    @property
    def total(self) -> int:
        return self.coded + self.to_review + self.left + self.skipped

    @staticmethod
    def of(statuses: list[Status]) -> Progress:
        return Progress(
            coded=statuses.count("coded"),
            to_review=statuses.count("to review"),
            left=statuses.count("left"),
            skipped=statuses.count("skipped"),
        )


@dataclass(frozen=True)
class TranscriptReview:
    transcript_id: str
    filename: str
    codebook: Codebook
    sentences: list[SentenceView]
    """The sentences the filter keeps, in order."""
    progress: Progress
    total: int
    method: str
    cold_start: bool
    exemplar_count: int


@dataclass(frozen=True)
class SentenceDetail:
    view: SentenceView
    suggestion: UnitSuggestion
    codebook: Codebook
    method: str
    agent: str
    trust: dict[str, TrustVerdict]
    """Each codable code's trust verdict for ``method`` (``eval.trust``)."""

    def flag(self, code: str) -> str:
        """The code's verdict in a few words, beside its score."""
        return short_text(self.trust[code])


def _suggest(
    workspace: Workspace,
    project_id: str,
    transcript_id: str,
    offset: int,
    limit: int,
    options: SuggestOptions,
) -> tuple[list[SentenceView], SuggestionBatch, Codebook]:
    """Views of ``limit`` sentences from ``offset`` with their suggestions."""
    with workspace.store.read() as connection:
        codebook = current_codebook(connection, project_id)
        start = max(offset - 1, 0)
        found = sentences(connection, project_id, transcript_id, offset=start, limit=limit + 1)
        codings = transcript_codings(connection, project_id, transcript_id)
        decisions = latest_decisions(connection, project_id, transcript_id)
    before = found[0].text if offset > 0 and found and found[0].index == offset - 1 else ""
    rows = [row for row in found if row.index >= offset][:limit]
    if not rows:
        raise NotFoundError(
            f"transcript {transcript_id!r} has no sentence {offset}; its sentences are "
            "numbered from 0"
        )
    texts = [row.text for row in rows]
    units = units_of(texts, [row.speaker for row in rows], preceding_texts(texts, before))
    batch = suggest_for_units(workspace, project_id, units, options=options)
    views = [
        SentenceView(
            index=row.index,
            turn_index=row.turn_index,
            speaker=row.speaker,
            text=row.text,
            suggested=tuple(result.suggested),
            top_score=result.codes[0].score if result.codes else 0.0,
            human_codes=_human_codes(codings.get(row.index), row.text),
            rejected=_rejected(decisions.get(row.index)),
            skipped=result.skipped,
        )
        for row, result in zip(rows, batch.units, strict=True)
    ]
    return views, batch, codebook


def _human_codes(coding: HumanCoding | None, text: str) -> tuple[str, ...] | None:
    return coding.codes if coding is not None and coding.codes_sentence(text) else None


def _rejected(latest: LatestDecision | None) -> bool:
    return latest is not None and latest.action == "reject"


def transcript_progress(workspace: Workspace, project_id: str, transcript_id: str) -> Progress:
    """The progress counts alone, as the page refreshes them after every decision: the coded
    sentences (a human's coding, or a rejection) come from the store, and only the others are
    suggested for (as the list does, without evidence), so the count gets cheaper as the
    coding goes on and nothing is rendered."""
    with workspace.store.read() as connection:
        transcript = get_transcript(connection, project_id, transcript_id)
        rows = sentences(connection, project_id, transcript_id, limit=transcript.sentence_count)
        codings = transcript_codings(connection, project_id, transcript_id)
        decisions = latest_decisions(connection, project_id, transcript_id)
    texts = [row.text for row in rows]
    units = units_of(texts, [row.speaker for row in rows], preceding_texts(texts, ""))
    open_units = [
        unit
        for row, unit in zip(rows, units, strict=True)
        if _human_codes(codings.get(row.index), row.text) is None
        and not _rejected(decisions.get(row.index))
    ]
    statuses: list[Status] = ["coded"] * (len(rows) - len(open_units))
    if open_units:
        batch = suggest_for_units(workspace, project_id, open_units, options=_LISTED)
        statuses += [
            "skipped" if result.skipped else "to review" if result.suggested else "left"
            for result in batch.units
        ]
    return Progress.of(statuses)


def review_transcript(
    workspace: Workspace, project_id: str, transcript_id: str, chosen: ReviewFilter
) -> TranscriptReview:
    """Every sentence of the transcript with the machine's codes and the humans' (filtered),
    and the progress over all of them."""
    with workspace.store.read() as connection:
        transcript = get_transcript(connection, project_id, transcript_id)
    # Readers refuse a transcript without text, so a stored one has a sentence at least.
    views, batch, codebook = _suggest(
        workspace, project_id, transcript_id, 0, transcript.sentence_count, _LISTED
    )
    statuses = [view.status for view in views]
    return TranscriptReview(
        transcript_id=transcript_id,
        filename=transcript.filename,
        codebook=codebook,
        sentences=[view for view in views if chosen.keeps(view)],
        progress=Progress.of(statuses),
        total=len(views),
        method=batch.method,
        cold_start=batch.cold_start,
        exemplar_count=batch.exemplar_count,
    )


def review_sentence(
    workspace: Workspace, project_id: str, transcript_id: str, index: int, *, evidence: bool = True
) -> SentenceDetail:
    """One sentence with its nine best codes, each with the exemplars for and against it
    (``evidence=False``: without them, as its row in the list needs it, which saves the
    evidence search)."""
    options = _IN_FOCUS if evidence else _LISTED
    views, batch, codebook = _suggest(workspace, project_id, transcript_id, index, 1, options)
    return SentenceDetail(
        views[0], batch.units[0], codebook, batch.method, batch.agent, batch.trust
    )


@dataclass(frozen=True)
class SentenceDecision:
    """A coder's decision on a stored sentence, as the page sends it."""

    action: Literal["accept", "reject", "change"]
    coder: str
    suggested: tuple[str, ...]
    codes: tuple[str, ...] | None = None
    method: str | None = None
    agent: str | None = None


def decide_sentence(
    workspace: Workspace,
    project_id: str,
    transcript_id: str,
    sentence_index: int,
    chosen: SentenceDecision,
) -> UndoStep:
    """Record a coder's decision on a stored sentence (accepted or changed codes become its
    exemplar at once), and how to take it back."""
    recorded = record_undoable_decision(
        workspace,
        project_id,
        Decision(
            action=chosen.action,
            coder=chosen.coder,
            transcript_id=transcript_id,
            sentence_index=sentence_index,
            suggested=chosen.suggested,
            codes=chosen.codes,
            method=chosen.method,
            agent=chosen.agent,
        ),
    )
    return UndoStep(
        project_id=project_id,
        transcript_id=transcript_id,
        sentence_index=sentence_index,
        previous_codes=recorded.replaced_codes,
        made_exemplar=recorded.row.exemplar_id,
    )


def undo_decision(workspace: Workspace, project_id: str, step: UndoStep, coder: str) -> bool:
    """Give the sentence back the coding it had before the step: remove the exemplar the
    decision made, or record the earlier codes again as a change. False for a rejection,
    which stored no coding and stays in the (append-only) decision log."""
    if step.project_id != project_id:
        raise NotFoundError(
            f"this undo step belongs to project {step.project_id!r}, not {project_id!r}; "
            "undo it from that project's page"
        )
    if step.made_exemplar is None:
        return False
    if step.previous_codes is not None:
        record_undoable_decision(
            workspace,
            project_id,
            Decision(
                action="change",
                coder=coder,
                transcript_id=step.transcript_id,
                sentence_index=step.sentence_index,
                codes=step.previous_codes,
                only_if_exemplar=step.made_exemplar,
            ),
        )
        return True
    try:
        remove_exemplar(workspace, project_id, step.made_exemplar)
    except NotFoundError as error:
        raise ConflictError(
            f"sentence {step.sentence_index} of {step.transcript_id!r} was coded again since "
            "(by another decision); change its codes instead of undoing"
        ) from error
    return True


def toggled(view: SentenceView, code: str) -> tuple[str, ...]:
    """The sentence's current coding with ``code`` added, or taken out when present."""
    current = list(view.coding)
    return tuple(c for c in current if c != code) if code in current else (*current, code)
