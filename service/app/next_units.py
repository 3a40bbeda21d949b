"""Use case: "code these next", the project's uncoded sentences ranked by how much coding
them would teach its coder (``ProjectCoder.rank_for_coding``, see ``models.next_units``).

The candidates are the sentences of the project's stored transcripts that no human has coded
and nobody has decided on (accepted, rejected or changed), of speakers the codebook codes;
each is read as the model reads it (with its speaker and previous sentence where it reads
context). The ranking is the project's coder's, up to date with every committed change, so
coding a pick and asking again gives the next most useful ones.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from codebook.errors import InputError
from codebook.transcripts import Sentence
from models.context import UnitContext, preceding_texts, units_of
from models.methods import DEFAULT_K, DEFAULT_METHOD, DEFAULT_NEXT, MAX_NEXT, SuggestOptions
from models.next_units import RankedUnit, Reason
from service.app.workspace import Workspace
from service.store.review import latest_decisions, transcript_codings
from service.store.transcripts import list_transcripts, sentences

_TRANSCRIPT_PAGE = 500


@dataclass(frozen=True)
class NextUnit:
    """One sentence to code next, and why."""

    transcript_id: str
    sentence_index: int
    speaker: str
    text: str
    score: float
    reason: Reason
    why: str
    codes: tuple[str, ...]
    """The codes the coder is torn between, best first (none in the cold start)."""
    novelty: float
    represents: int


@dataclass(frozen=True)
class NextUnits:
    project_id: str
    method: str
    exemplar_count: int
    by_diversity_alone: bool
    """True while the coder has learnt too little to rank by its own doubt."""
    candidates: int
    """The uncoded, undecided sentences that were ranked."""
    units: tuple[NextUnit, ...]


@dataclass(frozen=True)
class _Candidate:
    transcript_id: str
    sentence: Sentence
    unit: UnitContext


def check_next_count(n: int) -> None:
    """InputError unless 1 <= n <= MAX_NEXT (checked before anything is read or embedded)."""
    if not 1 <= n <= MAX_NEXT:
        raise InputError(
            f"the number of sentences to rank must be between 1 and {MAX_NEXT}, got {n}; "
            f"ask for fewer (the default is {DEFAULT_NEXT}), code them, then ask again"
        )


def next_units(
    workspace: Workspace, project_id: str, n: int = DEFAULT_NEXT, *, seed: int = 0
) -> NextUnits:
    """The ``n`` uncoded sentences of the project whose coding would teach its coder most,
    most informative first (fewer when fewer are left)."""
    check_next_count(n)
    with workspace.store.read() as connection:
        found = _uncoded(connection, project_id)
    coder = workspace.engine.coder(project_id, DEFAULT_METHOD, DEFAULT_K)
    coded = coder.selected([candidate.unit for candidate in found], SuggestOptions())
    candidates = [candidate for candidate, keep in zip(found, coded, strict=True) if keep]
    ranked: tuple[RankedUnit, ...] = ()
    if candidates:
        vectors = workspace.embed_units([candidate.unit for candidate in candidates])
        ranked = coder.rank_for_coding(vectors, n, seed=seed)
    state = coder.state
    return NextUnits(
        project_id=project_id,
        method=state.method,
        exemplar_count=state.exemplar_count,
        by_diversity_alone=any(unit.reason == "unlike coded" for unit in ranked),
        candidates=len(candidates),
        units=tuple(
            NextUnit(
                transcript_id=candidates[unit.position].transcript_id,
                sentence_index=candidates[unit.position].sentence.index,
                speaker=candidates[unit.position].sentence.speaker,
                text=candidates[unit.position].sentence.text,
                score=round(unit.score, 6),
                reason=unit.reason,
                why=unit.why,
                codes=unit.codes,
                novelty=round(unit.novelty, 6),
                represents=unit.represents,
            )
            for unit in ranked
        ),
    )


def _uncoded(connection: sqlite3.Connection, project_id: str) -> list[_Candidate]:
    """Every stored sentence no human has coded and nobody has decided on, transcript by
    transcript (NotFoundError for an unknown project)."""
    found: list[_Candidate] = []
    after = ""
    while True:
        page = list_transcripts(connection, project_id, after=after, limit=_TRANSCRIPT_PAGE)
        for transcript in page:
            found += _uncoded_in(connection, project_id, transcript.id)
        if len(page) < _TRANSCRIPT_PAGE:
            return found
        after = page[-1].id


def _uncoded_in(
    connection: sqlite3.Connection, project_id: str, transcript_id: str
) -> list[_Candidate]:
    rows = sentences(connection, project_id, transcript_id)
    codings = transcript_codings(connection, project_id, transcript_id)
    decided = latest_decisions(connection, project_id, transcript_id)
    texts = [row.text for row in rows]
    units = units_of(texts, [row.speaker for row in rows], preceding_texts(texts, ""))
    return [
        _Candidate(transcript_id, row, unit)
        for row, unit in zip(rows, units, strict=True)
        if row.index not in decided
        and not (row.index in codings and codings[row.index].codes_sentence(row.text))
    ]
