"""REFI-QDA files into intercoder's store: what the CLI and the service share for importing.

A ``.qdpx`` project becomes a project of the store in one write transaction, so a failure at
any point stores nothing: the codebook, every text source as a transcript (split into the same
sentences the REFI reader matched the selections to), one exemplar per coded sentence (the
coders' strict majority where several coded it, as the evaluation's reference does) and, in the
decision log, every coder's coding of every sentence, which is what an export gives back per
coder. A ``.qdc`` holds a codebook only and makes a project without transcripts.

The export side is :mod:`service.refi.exporting`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from codebook.coded import check_codes, coded_frame
from codebook.errors import CodedDataError, Problem
from codebook.model import Codebook
from codebook.refi import (
    OverlapRule,
    RefiProject,
    project_from_parts,
    read_qdc,
    read_qdpx,
    read_refi_file,
)
from codebook.transcripts import Sentence, Transcript
from eval.inputs import one_coding_per_unit
from models.context import units_of_frame
from models.encoder import Embeddings
from service.app.workspace import Workspace
from service.errors import BatchTooLargeError
from service.refi.formats import ImportOptions, RefiFormat, refi_format
from service.store.database import Transaction
from service.store.decisions import NewDecision, insert_decision
from service.store.exemplars import insert_exemplars, new_exemplars
from service.store.ids import TRANSCRIPT_ID_PATTERN
from service.store.projects import ProjectRow, bump_change_counter, get_project, insert_project
from service.store.transcripts import insert_transcript

_TRANSCRIPT_ID = re.compile(TRANSCRIPT_ID_PATTERN)
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9._-]+")
IMPORT_AGENT = "REFI-QDA import"
"""The ``agent`` of the decisions an import logs: the coders' own codings, not suggestions."""


@dataclass(frozen=True)
class RefiSummary:
    """What a REFI-QDA file holds, in intercoder's terms."""

    name: str
    codebook_version: str
    codes: int
    categories: int
    transcripts: int
    sentences: int
    coders: tuple[str, ...]
    coded_units: dict[str, int]
    """Per coder: the sentences that coder gave at least one code."""


def read_refi_bytes(
    data: bytes, filename: str, options: ImportOptions | None = None
) -> RefiProject:
    """A .qdpx project, or a .qdc codebook as a project without sources (by the extension)."""
    options = options or ImportOptions()
    rule = OverlapRule(min_share=options.min_share)
    if refi_format(filename) is RefiFormat.qdc:
        codebook = read_qdc(data, source=filename)
        return project_from_parts(codebook.name, codebook, (), coded_frame([]), rule=rule)
    return read_qdpx(data, source=filename, rule=rule, utf16_offsets=options.utf16_offsets)


def read_refi_path(path: Path, options: ImportOptions | None = None) -> RefiProject:
    """The same from a file, its size checked before it is read."""
    options = options or ImportOptions()
    rule = OverlapRule(min_share=options.min_share)
    return read_refi_file(path, rule=rule, utf16_offsets=options.utf16_offsets)


def summarise(project: RefiProject) -> RefiSummary:
    codebook = project.codebook
    coded = project.coded
    with_codes = coded.loc[coded["codes"].map(len) > 0, "coder"]
    return RefiSummary(
        name=project.name,
        codebook_version=codebook.version,
        codes=len(codebook.codable_ids),
        categories=len(codebook.codes) - len(codebook.codable_ids),
        transcripts=len(project.sources),
        sentences=sum(len(source.sentences) for source in project.sources),
        coders=tuple(project.coders),
        coded_units={coder: int(with_codes.eq(coder).sum()) for coder in project.coders},
    )


# ----- import into the store -----------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Everything an import stores, checked before the transaction opens."""

    codebook: Codebook
    transcripts: tuple[tuple[Transcript, str, tuple[Sentence, ...]], ...]
    coded: pd.DataFrame
    exemplars: pd.DataFrame


@dataclass(frozen=True)
class Imported:
    project: ProjectRow
    summary: RefiSummary


def import_refi_project(
    state: Workspace, refi: RefiProject, project_id: str, name: str | None = None
) -> Imported:
    """Store the REFI project as a new project of the store; all or nothing."""
    plan = _plan(refi, state.settings.max_batch_exemplars)
    units = units_of_frame(plan.exemplars)
    vectors = state.embed_units(units) if units else np.zeros((0, state.encoder.dim), np.float32)
    with state.store.write() as transaction:
        row = _store(state, transaction, project_id, name or refi.name, plan, vectors)
    return Imported(row, summarise(refi))


def _plan(refi: RefiProject, most_exemplars: int) -> _Plan:
    ids = store_transcript_ids([source.transcript.id for source in refi.sources])
    transcripts = []
    for source, new_id in zip(refi.sources, ids, strict=True):
        transcript = source.transcript.model_copy(update={"id": new_id})
        split = tuple(s.model_copy(update={"transcript_id": new_id}) for s in source.sentences)
        transcripts.append((transcript, source.name, split))
    renamed = dict(zip((s.transcript.id for s in refi.sources), ids, strict=True))
    coded = _renamed(refi.coded, renamed)
    check_units_match(coded, {t.id: split for t, _, split in transcripts})
    check_codes(coded, refi.codebook)
    exemplars = one_coding_per_unit(coded) if len(coded) else coded
    if len(exemplars) > most_exemplars:
        raise BatchTooLargeError(
            f"this project has {len(exemplars)} coded sentences; an import takes at most "
            f"{most_exemplars} (INTERCODER_MAX_BATCH_EXEMPLARS); raise that limit, or split the "
            "project in the QDA tool"
        )
    return _Plan(refi.codebook, tuple(transcripts), coded, exemplars)


def store_transcript_ids(ids: Sequence[str]) -> list[str]:
    """Distinct transcript ids the service's routes accept: each given id, or a slug of it."""
    chosen: list[str] = []
    for given in ids:
        base = given
        if not _TRANSCRIPT_ID.match(given):
            base = _NOT_IN_ID.sub("-", given).strip("-._")[:120] or "source"
        candidate, number = base, 1
        while candidate in chosen:
            number += 1
            candidate = f"{base[:120]}-{number}"
        chosen.append(candidate)
    return chosen


def _renamed(coded: pd.DataFrame, ids: dict[str, str]) -> pd.DataFrame:
    frame = coded.copy()
    old = frame["transcript_id"]
    frame["transcript_id"] = old.map(ids).fillna(old)
    same_group = frame["group"] == old
    frame.loc[same_group, "group"] = frame.loc[same_group, "transcript_id"]
    return frame


def check_units_match(coded: pd.DataFrame, sentences: dict[str, Sequence[Sentence]]) -> None:
    """CodedDataError unless every row names a sentence (unit_id = its index) by its text."""
    problems = []
    for position, (transcript_id, unit_id, text) in enumerate(
        zip(coded["transcript_id"], coded["unit_id"], coded["text"], strict=True)
    ):
        split = sentences.get(transcript_id)
        if split is None:
            problems.append(Problem(f"row {position + 1}", f"no transcript {transcript_id!r}"))
            continue
        index = int(unit_id) if str(unit_id).isdigit() else -1
        if not 0 <= index < len(split) or split[index].text != text:
            problems.append(
                Problem(
                    f"row {position + 1} (transcript {transcript_id}, unit {unit_id})",
                    f"is not sentence {unit_id} of the transcript (text {str(text)[:60]!r})",
                )
            )
    if problems:
        raise CodedDataError(
            f"{len(problems)} coded row(s) do not name a sentence of their transcript; a unit_id "
            "must be the sentence's index as `intercoder transcript split` numbers it, with "
            "that sentence's text",
            problems,
        )


def _store(
    state: Workspace,
    transaction: Transaction,
    project_id: str,
    name: str,
    plan: _Plan,
    vectors: Embeddings,
) -> ProjectRow:
    connection = transaction.connection
    row = insert_project(connection, project_id, name, plan.codebook)
    for transcript, filename, split in plan.transcripts:
        insert_transcript(connection, project_id, transcript, filename, split)
    new = new_exemplars(plan.exemplars, vectors, origin="import")
    ids = insert_exemplars(connection, project_id, new, state.encoder.model_id) if new else []
    counter = bump_change_counter(connection, project_id) if ids else 0
    unit_ids = {(e.transcript_id, e.unit_id): i for e, i in zip(new, ids, strict=True)}
    for decision in _decisions(plan.coded, plan.codebook.version, unit_ids):
        insert_decision(connection, project_id, decision)

    def open_index() -> None:
        state.indexes.create(project_id, row.uid)
        state.apply_exemplar_change(project_id, counter, add_ids=ids, add_vectors=vectors)

    transaction.after_commit(open_index)
    return get_project(connection, project_id)


def _decisions(
    coded: pd.DataFrame, codebook_version: str, exemplar_ids: dict[tuple[str, str], int]
) -> list[NewDecision]:
    """Every coder's coding of every sentence, as decisions in the log (how exports find
    each coder again: the project's exemplars hold one coding per sentence)."""
    return [
        NewDecision(
            action="change",
            coder=str(row["coder"]),
            transcript_id=str(row["transcript_id"]),
            sentence_index=int(row["unit_id"]),
            text=str(row["text"]),
            suggested=(),
            codes=tuple(sorted(row["codes"])),
            method=None,
            agent=IMPORT_AGENT,
            codebook_version=codebook_version,
            exemplar_id=exemplar_ids.get((str(row["transcript_id"]), str(row["unit_id"]))),
            replaced_exemplar_id=None,
        )
        for row in coded.to_dict("records")
    ]
