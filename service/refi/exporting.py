"""A project of intercoder's store as a REFI-QDA file: what the CLI and the service share.

A ``.qdc`` is the project's current codebook. A ``.qdpx`` adds the stored transcripts and, per
coder, each coder's latest coding of each sentence: from the decision log (imports and coders'
decisions) and, for sentences no decision names, from the exemplars stored on them. The
machine can join as one more user, named after the model and method:

- ``human``: the coders only;
- ``accepted``: the suggestions coders accepted, as the machine's codings;
- ``suggested``: the machine's suggestions for every sentence no coder has coded, made now by
  the service's own engine (the project's exemplars, the default method).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from codebook.coded import CodedUnit, coded_frame
from codebook.model import Codebook
from codebook.refi import (
    MachineCodings,
    RefiProject,
    machine_user_name,
    project_from_parts,
    write_qdc,
    write_qdpx,
)
from codebook.transcripts import Sentence, Transcript, Turn
from models.context import UnitContext, preceding_texts
from models.methods import DEFAULT_METHOD
from service.app.suggesting import suggest_for_units
from service.app.workspace import Workspace
from service.refi.formats import Include, RefiFormat
from service.store.database import Store
from service.store.decisions import DecisionRow, list_decisions
from service.store.exemplars import ExemplarRow, all_exemplars
from service.store.projects import current_codebook, get_project
from service.store.transcripts import list_transcripts, sentences, transcript_text

_PAGE = 500
UNKNOWN_MODEL = "intercoder"
"""The machine's model name when neither a decision nor the caller names the model."""
UnitKey = tuple[str, int]
Codings = dict[tuple[str, int, str], frozenset[str]]
"""(transcript, sentence index, coder) -> that coder's codes for the sentence."""


@dataclass(frozen=True)
class StoredProject:
    """A snapshot of a project: what a REFI export is made from."""

    name: str
    codebook: Codebook
    transcripts: tuple[Transcript, ...]
    sentences: dict[str, list[Sentence]]
    decisions: tuple[DecisionRow, ...]
    exemplars: tuple[ExemplarRow, ...]


@dataclass(frozen=True)
class RefiExport:
    """An export's bytes, and what went into it: enough to tell the user what was added."""

    content: bytes
    transcripts: int = 0
    sentences: int = 0
    uncoded: int = 0
    """Sentences no coder has coded."""
    machine_sentences: int = 0
    """Sentences the machine user codes in the file (accepted or suggested)."""
    machine_codes: int = 0
    """Codes the machine user gives, over all its sentences."""


def export_project(
    store: Store,
    project_id: str,
    format: RefiFormat,
    include: Include = Include.human,
    *,
    utf16_offsets: bool = False,
    service: Workspace | None = None,
) -> bytes:
    """The project as a .qdc codebook or a .qdpx project (with the machine per ``include``).

    Only ``include=suggested`` needs the ``service`` (its engine makes the suggestions).
    """
    return export_refi(
        store, project_id, format, include, utf16_offsets=utf16_offsets, service=service
    ).content


def export_refi(
    store: Store,
    project_id: str,
    format: RefiFormat,
    include: Include = Include.human,
    *,
    utf16_offsets: bool = False,
    service: Workspace | None = None,
) -> RefiExport:
    """:func:`export_project` with the counts of what the file holds."""
    if format is RefiFormat.qdc:
        with store.read() as connection:
            return RefiExport(write_qdc(current_codebook(connection, project_id)))
    stored = read_stored(store, project_id)
    codings = _human_codings(stored)
    project = refi_project(stored, codings)
    coded_units = {(transcript_id, index) for transcript_id, index, _ in codings}
    machine = None
    if include is Include.accepted:
        machine = _accepted(stored, service.encoder.model_id if service else UNKNOWN_MODEL)
    elif include is Include.suggested:
        assert service is not None, "suggestions need the service's engine"
        machine = _suggested(service, project_id, stored, coded_units)
    content = write_qdpx(project, machine=machine, utf16_offsets=utf16_offsets)
    sentences = sum(len(split) for split in stored.sentences.values())
    given = [len(codes) for codes in machine.coded["codes"]] if machine is not None else []
    return RefiExport(
        content,
        transcripts=len(stored.transcripts),
        sentences=sentences,
        uncoded=sentences - len(coded_units),
        machine_sentences=sum(1 for count in given if count),
        machine_codes=sum(given),
    )


def read_stored(store: Store, project_id: str) -> StoredProject:
    with store.read() as connection:
        name = get_project(connection, project_id).name
        codebook = current_codebook(connection, project_id)
        transcripts, split = _transcripts(connection, project_id)
        decisions = tuple(_decisions(connection, project_id))
        exemplars = tuple(all_exemplars(connection, project_id))
    return StoredProject(name, codebook, transcripts, split, decisions, exemplars)


def refi_project(stored: StoredProject, codings: Codings) -> RefiProject:
    """The stored project with every coder's codings, ready for ``write_qdpx``."""
    coded = _coded(stored.sentences, codings)
    return project_from_parts(
        stored.name, stored.codebook, stored.transcripts, coded, sentences=stored.sentences
    )


def _transcripts(
    connection: sqlite3.Connection, project_id: str
) -> tuple[tuple[Transcript, ...], dict[str, list[Sentence]]]:
    transcripts, split = [], {}
    after = ""
    while rows := list_transcripts(connection, project_id, after=after, limit=_PAGE):
        for row in rows:
            found = sentences(connection, project_id, row.id)
            text = transcript_text(connection, project_id, row.id)
            transcripts.append(
                Transcript(
                    id=row.id,
                    source_format=row.format,
                    text=text,
                    turns=_turns(text, found),
                )
            )
            split[row.id] = found
        after = rows[-1].id
    return tuple(transcripts), split


def _turns(text: str, found: list[Sentence]) -> tuple[Turn, ...]:
    """The turns again, from their sentences (the store keeps sentences, not turns)."""
    spans: dict[int, tuple[str, int, int]] = {}
    for s in found:
        speaker, start, end = spans.get(s.turn_index, (s.speaker, s.start, s.end))
        spans[s.turn_index] = (speaker, min(start, s.start), max(end, s.end))
    return tuple(
        Turn(index=index, speaker=speaker, text=text[start:end], start=start, end=end)
        for index, (speaker, start, end) in sorted(spans.items())
    )


def _decisions(connection: sqlite3.Connection, project_id: str) -> Iterator[DecisionRow]:
    after = 0
    while rows := list_decisions(connection, project_id, after=after, limit=_PAGE):
        yield from rows
        after = rows[-1].id


def _stored_unit(
    stored: StoredProject, transcript_id: str | None, index: int | None
) -> UnitKey | None:
    """(transcript, sentence) when both name a stored sentence, else None."""
    if transcript_id is None or index is None:
        return None
    split = stored.sentences.get(transcript_id)
    return (transcript_id, index) if split is not None and 0 <= index < len(split) else None


def _human_codings(stored: StoredProject) -> Codings:
    """(transcript, sentence, coder) -> that coder's latest coding of the sentence."""
    codings: Codings = {}
    decided: set[UnitKey] = set()
    for decision in stored.decisions:
        unit = _stored_unit(stored, decision.transcript_id, decision.sentence_index)
        if decision.codes is None or unit is None:
            continue
        decided.add(unit)
        codings[(*unit, decision.coder)] = frozenset(decision.codes)
    for exemplar in stored.exemplars:
        index = int(exemplar.unit_id) if exemplar.unit_id.isdigit() else None
        unit = _stored_unit(stored, exemplar.transcript_id, index)
        if unit is None or unit in decided:
            continue
        if stored.sentences[unit[0]][unit[1]].text == exemplar.text:
            codings[(*unit, exemplar.coder)] = frozenset(exemplar.codes)
    return codings


def _coded(split: dict[str, list[Sentence]], codings: Codings) -> pd.DataFrame:
    units = []
    for (transcript_id, index, coder), codes in sorted(codings.items()):
        sentence = split[transcript_id][index]
        units.append(
            CodedUnit(
                transcript_id=transcript_id,
                unit_id=str(index),
                turn_index=sentence.turn_index,
                text=sentence.text,
                codes=codes,
                speaker=sentence.speaker,
                coder=coder,
                previous_text=split[transcript_id][index - 1].text if index else "",
            )
        )
    return coded_frame(units)


def _accepted(stored: StoredProject, model_id: str) -> MachineCodings:
    """The suggestions coders accepted (the latest accept per sentence), as the machine's;
    named after the model and method the last accepted decision gives (else ``model_id``)."""
    accepted: Codings = {}
    method, agent = str(DEFAULT_METHOD), model_id
    for decision in stored.decisions:
        unit = _stored_unit(stored, decision.transcript_id, decision.sentence_index)
        if decision.action != "accept" or unit is None:
            continue
        accepted[(*unit, "machine")] = frozenset(decision.suggested)
        method, agent = decision.method or method, decision.agent or agent
    user = machine_user_name(agent, method)
    return MachineCodings(user_name=user, coded=_as_user(_coded(stored.sentences, accepted), user))


def _suggested(
    state: Workspace, project_id: str, stored: StoredProject, coded_units: set[UnitKey]
) -> MachineCodings:
    """Fresh suggestions for every sentence no coder has coded, from the project's coder."""
    open_units: list[tuple[str, int]] = []
    contexts: list[UnitContext] = []
    for transcript_id, split in stored.sentences.items():
        previous = preceding_texts([sentence.text for sentence in split])
        for sentence, before in zip(split, previous, strict=True):
            if (transcript_id, sentence.index) not in coded_units:
                open_units.append((transcript_id, sentence.index))
                contexts.append(UnitContext(sentence.text, sentence.speaker, before))
    machine: Codings = {}
    agent, method = state.encoder.model_id, str(DEFAULT_METHOD)
    batch = state.settings.max_batch_sentences
    for start in range(0, len(open_units), batch):
        answer = suggest_for_units(state, project_id, contexts[start : start + batch])
        agent, method = answer.agent, answer.method
        for (transcript_id, index), unit in zip(open_units[start:], answer.units, strict=False):
            if unit.suggested:
                machine[(transcript_id, index, "m")] = frozenset(unit.suggested)
    user = machine_user_name(agent, method)
    return MachineCodings(user_name=user, coded=_as_user(_coded(stored.sentences, machine), user))


def _as_user(frame: pd.DataFrame, user: str) -> pd.DataFrame:
    return frame.assign(coder=user)
