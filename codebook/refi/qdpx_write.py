"""Writing REFI-QDA projects (.qdpx) that NVivo, MAXQDA and ATLAS.ti read.

The archive holds ``project.qde`` and one ``sources/<guid>.txt`` per text source (UTF-8, no
byte-order mark, the transcript's text exactly). The document has a ``<User>`` per coder, the
codebook (see :mod:`codebook.refi.codes`), the text sources with a ``<PlainTextSelection>`` per
selection carrying one ``<Coding>`` per code, and the codebook's sets; it is checked against
Project.xsd before the archive is built.

The machine's codes, when given, are written as one more coder: a ``<User>`` named after
intercoder and its model (:func:`~codebook.refi.machine_user_name`) and, for every sentence it
coded, a selection spanning that sentence with a coding per code, so that a QDA program's coder
comparison sets the machine against each human. Selections already under that user name are
replaced. GUIDs intercoder invents are derived from names and ids, so exporting the same
project twice gives the same file.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Sequence
from itertools import groupby

from codebook.coded import check_codes, coded_frame
from codebook.errors import CodedDataError, Problem
from codebook.refi.codes import code_guid, codes_to_xml, sets_to_xml
from codebook.refi.model import MachineCodings, RefiProject, RefiSelection, RefiSource
from codebook.refi.offsets import OffsetCounter
from codebook.refi.xmltools import ORIGIN, PROJECT_NAMESPACE, add, derived_guid, serialise

_EXCERPT_CHARS = 60
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write_qdpx(
    project: RefiProject, *, machine: MachineCodings | None = None, utf16_offsets: bool = False
) -> bytes:
    """The project (and the machine's codes) as .qdpx bytes; offsets in UTF-16 if asked."""
    selections = list(project.selections)
    coders = list(project.coders)
    if machine is not None:
        selections = [s for s in selections if s.coder != machine.user_name]
        selections += machine_selections(project, machine)
        coders = [coder for coder in coders if coder != machine.user_name]
    coders += [s.coder for s in selections if s.coder not in coders]
    coders = list(dict.fromkeys(coders))
    _check_selections(project, selections)
    root = ET.Element("Project", name=project.name, origin=ORIGIN)
    users = {coder: derived_guid("user", coder) for coder in coders}
    if users:
        holder = add(root, "Users")
        for coder, guid in users.items():
            add(holder, "User", guid=guid, name=coder)
    codes_to_xml(add(root, "CodeBook"), project.codebook)
    if project.sources:
        holder = add(root, "Sources")
        for source in project.sources:
            here = [s for s in selections if s.source_guid == source.guid]
            _add_source(holder, project, source, here, users, utf16_offsets)
    sets_to_xml(root, project.codebook, "targetGUID")
    document = serialise(root, PROJECT_NAMESPACE, "Project.xsd")
    return _archive(document, project.sources)


def machine_selections(project: RefiProject, machine: MachineCodings) -> list[RefiSelection]:
    """One selection per sentence the machine coded, spanning it, a coding per code."""
    frame = coded_frame(machine.coded)
    check_codes(frame, project.codebook)
    sentences = {
        (source.transcript.id, str(sentence.index)): (source, sentence)
        for source in project.sources
        for sentence in source.sentences
    }
    order = {code_id: position for position, code_id in enumerate(project.codebook.by_id)}
    found: list[RefiSelection] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for row, (transcript_id, unit_id, codes) in enumerate(
        zip(frame["transcript_id"], frame["unit_id"], frame["codes"], strict=True), start=1
    ):
        key = (transcript_id, unit_id)
        if key not in sentences or key in seen:
            why = "is not a sentence of the project" if key not in sentences else "comes twice"
            problems.append(
                Problem(f"row {row}", f"transcript {transcript_id}, unit {unit_id} {why}")
            )
            continue
        seen.add(key)
        source, sentence = sentences[key]
        guid = derived_guid("machine", machine.user_name, source.guid, unit_id)
        for code_id in sorted(codes, key=order.__getitem__):
            found.append(
                RefiSelection(
                    source.guid, sentence.start, sentence.end, code_id, machine.user_name, guid
                )
            )
    if problems:
        raise CodedDataError(
            "the machine's codes must name each of the project's sentences at most once, by "
            "transcript_id and unit_id (the sentence index); correct the suggestions table",
            problems,
        )
    return found


def _add_source(
    parent: ET.Element,
    project: RefiProject,
    source: RefiSource,
    selections: Sequence[RefiSelection],
    users: dict[str, str],
    utf16_offsets: bool,
) -> None:
    text = source.transcript.text
    element = add(
        parent,
        "TextSource",
        guid=source.guid,
        name=source.name,
        plainTextPath=f"internal://{source.guid}.txt",
    )
    counter = OffsetCounter(text, utf16=utf16_offsets)
    for (guid, start, end), group in _groups(selections):
        codings = list(group)
        selection = add(
            element,
            "PlainTextSelection",
            guid=guid,
            name=" ".join(text[start:end].split())[:_EXCERPT_CHARS],
            startPosition=str(counter.to_offset(start)),
            endPosition=str(counter.to_offset(end)),
            creatingUser=users[codings[0].coder],
        )
        for coding in codings:
            code = project.codebook.get(coding.code_id)
            added = add(
                selection,
                "Coding",
                guid=derived_guid("coding", guid, coding.code_id, coding.coder),
                creatingUser=users[coding.coder],
            )
            add(added, "CodeRef", targetGUID=code_guid(project.codebook, code))


def _groups(
    selections: Sequence[RefiSelection],
) -> Iterator[tuple[tuple[str, int, int], Iterator[RefiSelection]]]:
    """Consecutive codings of one selection (same GUID and span) together."""
    return groupby(selections, key=lambda s: (s.guid, s.start, s.end))


def _check_selections(project: RefiProject, selections: Sequence[RefiSelection]) -> None:
    lengths = {source.guid: len(source.transcript.text) for source in project.sources}
    problems = []
    for number, selection in enumerate(selections, start=1):
        if selection.source_guid not in lengths:
            problems.append(f"names source {selection.source_guid}, which the project lacks")
        elif not 0 <= selection.start <= selection.end <= lengths[selection.source_guid]:
            problems.append(f"spans {selection.start}..{selection.end}, outside its source")
        elif selection.code_id not in project.codebook:
            problems.append(f"names code {selection.code_id!r}, which the codebook lacks")
        else:
            continue
        problems[-1] = f"selection {number} ({selection.guid}) {problems[-1]}"
    if problems:
        raise CodedDataError(
            "the project's selections do not fit its sources and codebook; build the project "
            "with read_qdpx or project_from_parts",
            [Problem("", problem) for problem in problems],
        )


def _archive(document: bytes, sources: Sequence[RefiSource]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _put(archive, "project.qde", document)
        for source in sources:
            _put(archive, f"sources/{source.guid}.txt", source.transcript.text.encode("utf-8"))
    return buffer.getvalue()


def _put(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Add an entry with a fixed date, so that the same project gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
