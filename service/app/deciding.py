"""Use case: a coder accepts, rejects or changes a suggestion.

An accepted or changed coding becomes an exemplar in the same transaction as its decision, and
joins the project's index right after the commit, so the very next suggestion learns from it.
A unit has one exemplar: a later decision on it replaces the earlier exemplar (the decision log
keeps both decisions). A rejection names no coding, so it only goes into the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codebook.errors import CodedDataError, Problem
from models.context import UnitContext
from models.encoder import Embeddings
from service.app.workspace import Workspace
from service.errors import ConflictError
from service.store.database import Transaction
from service.store.decisions import DecisionRow, NewDecision, insert_decision
from service.store.exemplars import (
    ExemplarRow,
    NewExemplar,
    delete_exemplar,
    exemplar_for_unit,
    get_exemplar,
    insert_exemplars,
    text_unit_id,
)
from service.store.projects import bump_change_counter, current_codebook, require_project
from service.store.transcripts import sentence_with_previous


@dataclass(frozen=True)
class Decision:
    """A coder's decision on a suggestion for one unit: a stored sentence (transcript_id and
    sentence_index) or an ad-hoc text (with its speaker and previous text)."""

    action: Literal["accept", "reject", "change"]
    coder: str
    transcript_id: str | None = None
    sentence_index: int | None = None
    text: str | None = None
    speaker: str | None = None
    previous_text: str | None = None
    suggested: tuple[str, ...] = ()
    codes: tuple[str, ...] | None = None
    method: str | None = None
    agent: str | None = None
    only_if_exemplar: int | None = None
    """Record only while this is still the unit's exemplar (an undo: ConflictError once
    another decision has replaced it), checked in the decision's own transaction."""


@dataclass(frozen=True)
class Recorded:
    """A logged decision and the codes of the exemplar it replaced (read in its transaction,
    so an undo gives back what was really there)."""

    row: DecisionRow
    replaced_codes: tuple[str, ...] | None


AD_HOC_TRANSCRIPT = "adhoc"
"""The transcript id of exemplars made from decisions on ad-hoc sentences."""


@dataclass(frozen=True)
class _Unit:
    transcript_id: str
    unit_id: str
    turn_index: int
    speaker: str
    text: str
    previous_text: str

    def context(self) -> UnitContext:
        """What the model reads for this unit (a project model: speaker and previous text)."""
        return UnitContext(self.text, self.speaker, self.previous_text)


def _coding(body: Decision) -> frozenset[str] | None:
    if body.action == "accept":
        return frozenset(body.suggested)
    if body.action == "change":
        return frozenset(body.codes or ())
    return None


def _unit(state: Workspace, project_id: str, body: Decision) -> _Unit:
    """The unit decided on: a stored sentence (with its context) or an ad-hoc text."""
    if body.text is not None:
        with state.store.read() as connection:
            require_project(connection, project_id)
        return _Unit(
            AD_HOC_TRANSCRIPT,
            text_unit_id(body.text),
            0,
            body.speaker or "",
            body.text,
            body.previous_text or "",
        )
    assert body.transcript_id is not None
    assert body.sentence_index is not None
    with state.store.read() as connection:
        sentence, previous = sentence_with_previous(
            connection, project_id, body.transcript_id, body.sentence_index
        )
    return _Unit(
        body.transcript_id,
        str(sentence.index),
        sentence.turn_index,
        sentence.speaker,
        sentence.text,
        previous,
    )


def _store_exemplar(
    state: Workspace,
    transaction: Transaction,
    project_id: str,
    unit: _Unit,
    coding: frozenset[str],
    coder: str,
    vectors: Embeddings,
    only_if: int | None,
) -> tuple[int, ExemplarRow | None]:
    """The unit's new exemplar (replacing its old one); the index follows after the commit."""
    connection = transaction.connection
    replaced_id = exemplar_for_unit(connection, project_id, unit.transcript_id, unit.unit_id)
    if only_if is not None and replaced_id != only_if:
        raise ConflictError(
            f"unit {unit.unit_id} of {unit.transcript_id!r} was coded again since (by another "
            "decision); change its codes instead of undoing"
        )
    replaced = None if replaced_id is None else get_exemplar(connection, project_id, replaced_id)
    if replaced is not None and replaced.text != unit.text:
        # coded data numbering its own units under this transcript id: not this sentence's
        raise ConflictError(
            f"unit id {unit.unit_id} of transcript {unit.transcript_id!r} already holds an "
            f"exemplar (id {replaced.id}) with another text, {replaced.text[:60]!r}, from "
            "coded data; import that data under another transcript_id, or with unit_id values "
            "that match this transcript's sentences, to code this sentence here"
        )
    if replaced_id is not None:
        delete_exemplar(connection, project_id, replaced_id)
    exemplar = NewExemplar(
        transcript_id=unit.transcript_id,
        unit_id=unit.unit_id,
        turn_index=unit.turn_index,
        speaker=unit.speaker,
        text=unit.text,
        codes=coding,
        coder=coder,
        previous_text=unit.previous_text,
        group=unit.transcript_id,
        origin="decision",
        vector=vectors[0],
    )
    [exemplar_id] = insert_exemplars(connection, project_id, [exemplar], state.encoder.model_id)
    counter = bump_change_counter(connection, project_id)
    transaction.after_commit(
        lambda: state.apply_exemplar_change(
            project_id,
            counter,
            add_ids=[exemplar_id],
            add_vectors=vectors,
            remove_ids=None if replaced_id is None else [replaced_id],
        )
    )
    return exemplar_id, replaced


def record_decision(state: Workspace, project_id: str, body: Decision) -> DecisionRow:
    """Log a coder's decision; an accepted or changed coding becomes the unit's exemplar in
    the same transaction (replacing an earlier one), and joins the index after the commit."""
    return record_undoable_decision(state, project_id, body).row


def record_undoable_decision(state: Workspace, project_id: str, body: Decision) -> Recorded:
    """:func:`record_decision`, with the codes it replaced (what an undo gives back)."""
    unit = _unit(state, project_id, body)
    coding = _coding(body)
    vectors = state.embed_units([unit.context()]) if coding is not None else None
    with state.store.write() as transaction:
        codebook = current_codebook(transaction.connection, project_id)
        exemplar_id = replaced = None
        if coding is not None and vectors is not None:
            problems = codebook.code_set_problems(coding)
            if problems:
                raise CodedDataError(
                    f"the coding {sorted(coding)} does not fit the project's codebook "
                    f"{codebook.name!r}; choose codes it has",
                    [
                        Problem("codes" if body.action == "change" else "suggested", p)
                        for p in problems
                    ],
                )
            exemplar_id, replaced = _store_exemplar(
                state,
                transaction,
                project_id,
                unit,
                coding,
                body.coder,
                vectors,
                body.only_if_exemplar,
            )
        row = insert_decision(
            transaction.connection,
            project_id,
            NewDecision(
                action=body.action,
                coder=body.coder,
                transcript_id=body.transcript_id,
                sentence_index=body.sentence_index,
                text=unit.text,
                suggested=tuple(body.suggested),
                codes=None if coding is None else tuple(sorted(coding)),
                method=body.method,
                agent=body.agent,
                codebook_version=codebook.version,
                exemplar_id=exemplar_id,
                replaced_exemplar_id=None if replaced is None else replaced.id,
            ),
        )
    return Recorded(row, None if replaced is None else replaced.codes)
