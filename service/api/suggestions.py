"""Code suggestions with evidence, for ad-hoc sentences or a stored transcript's sentences."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Path

from eval.report_model import TrustVerdict
from models.context import UnitContext, preceding_texts, units_of
from models.suggestions import Evidence, UnitSuggestion
from service.api.deps import ProjectId, State
from service.api.problems import problem_responses
from service.api.schemas_suggest import (
    CodeSuggestion,
    DataWarningOut,
    EvidenceOut,
    SentencesSuggestRequest,
    SuggestionsOut,
    SuggestOptions,
    TranscriptSuggestRequest,
    UnitOut,
    UnitSuggestions,
)
from service.app.suggesting import suggest_for_units
from service.app.workspace import Workspace
from service.errors import BatchTooLargeError
from service.store.ids import TRANSCRIPT_ID_PATTERN
from service.store.projects import require_project
from service.store.transcripts import sentences, transcript_speakers

router = APIRouter(prefix="/v1/projects/{project_id}", tags=["suggestions"])


@router.post(
    "/suggestions",
    summary="Suggest codes for sentences sent in the request",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def suggest_sentences(
    project_id: ProjectId, body: SentencesSuggestRequest, state: State
) -> SuggestionsOut:
    _check_batch(state, len(body.sentences), "send them in several requests")
    with state.store.read() as connection:
        require_project(connection, project_id)
    contexts = units_of(body.sentences, body.speakers, body.previous_texts)
    units = [UnitOut(text=unit.text, speaker=unit.speaker or None) for unit in contexts]
    return suggest_units(state, project_id, body, units, contexts)


@router.post(
    "/transcripts/{transcript_id}/suggestions",
    summary="Suggest codes for a stored transcript's sentences (all, or offset/limit)",
    responses=problem_responses(401, 403, 404, 413, 422),
)
def suggest_transcript(
    project_id: ProjectId,
    transcript_id: Annotated[str, Path(pattern=TRANSCRIPT_ID_PATTERN)],
    state: State,
    body: Annotated[TranscriptSuggestRequest | None, Body()] = None,
) -> SuggestionsOut:
    options = body or TranscriptSuggestRequest()
    most = state.settings.max_batch_sentences
    limit = most + 1 if options.limit is None else options.limit
    with state.store.read() as connection:
        found = sentences(connection, project_id, transcript_id, offset=options.offset, limit=limit)
        before = _text_before(connection, project_id, transcript_id, options.offset)
        everyone = transcript_speakers(connection, project_id, transcript_id)
    _check_batch(state, len(found), "page through the transcript with offset and limit")
    units = [
        UnitOut(
            text=row.text,
            transcript_id=transcript_id,
            sentence_index=row.index,
            turn_index=row.turn_index,
            speaker=row.speaker,
            start=row.start,
            end=row.end,
        )
        for row in found
    ]
    texts = [row.text for row in found]
    speakers = [row.speaker for row in found]
    contexts = units_of(texts, speakers, preceding_texts(texts, before))
    return suggest_units(state, project_id, options, units, contexts, everyone)


def _text_before(
    connection: sqlite3.Connection, project_id: str, transcript_id: str, offset: int
) -> str:
    """The text of the sentence just before ``offset`` ("" at the start): the first sentence
    of a page reads the sentence before it as its context, as in the whole transcript."""
    if offset == 0:
        return ""
    found = sentences(connection, project_id, transcript_id, offset=offset - 1, limit=1)
    return found[0].text if found and found[0].index == offset - 1 else ""


def _check_batch(state: Workspace, count: int, how: str) -> None:
    most = state.settings.max_batch_sentences
    if count > most:
        raise BatchTooLargeError(
            f"one request may ask for suggestions on at most {most} sentences, and this one "
            f"asks for more; {how}"
        )


def suggest_units(
    state: Workspace,
    project_id: str,
    options: SuggestOptions,
    units: list[UnitOut],
    contexts: Sequence[UnitContext] | None = None,
    present_speakers: Sequence[str] | None = None,
) -> SuggestionsOut:
    """The application's suggestions for these units, as the API's response.

    ``contexts`` (one per unit) is what the model reads for each: a project model reads the
    speaker and the previous unit's text too. Without it, each unit's text and speaker.
    """
    if contexts is None:
        contexts = [UnitContext(unit.text, unit.speaker or "") for unit in units]
    batch = suggest_for_units(
        state,
        project_id,
        contexts,
        method=options.method,
        k=options.k,
        options=options.per_call(),
        present_speakers=present_speakers,
    )
    return SuggestionsOut(
        project_id=project_id,
        method=batch.method,
        agent=batch.agent,
        codebook_version=batch.codebook_version,
        cold_start=batch.cold_start,
        exemplar_count=batch.exemplar_count,
        warnings=[DataWarningOut.of(warning) for warning in batch.warnings],
        trust=batch.trust,
        units=[
            _unit_out(unit, result, batch.agent, batch.trust)
            for unit, result in zip(units, batch.units, strict=True)
        ],
    )


def _unit_out(
    unit: UnitOut, result: UnitSuggestion, agent: str, trust: Mapping[str, TrustVerdict]
) -> UnitSuggestions:
    return UnitSuggestions(
        unit=unit,
        suggested=result.suggested,
        no_code=result.no_code,
        no_code_score=result.no_code_score,
        no_code_evidence=_evidence(result.no_code_evidence),
        abstained=result.abstained,
        confidence=result.confidence,
        skipped=result.skipped,
        suggestions=[
            CodeSuggestion(
                code=code.code,
                name=code.name,
                score=code.score,
                threshold=code.threshold,
                suggested=code.suggested,
                trust=trust[code.code].kind,
                agent=agent,
                evidence=_evidence(code.supporting),
                opposing=_evidence(code.opposing),
            )
            for code in result.codes
        ],
    )


def _evidence(items: list[Evidence]) -> list[EvidenceOut]:
    return [EvidenceOut.model_validate(item, from_attributes=True) for item in items]
