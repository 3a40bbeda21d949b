"""Reading REFI-QDA projects (.qdpx): a zip with one .qde project document and its sources.

What is read, and how leniently:

- The project document is ``project.qde``, or the only ``.qde`` at the archive's top level
  whatever its name. Sources are looked up in ``sources/`` or ``Sources/``.
- Text sources only (``<TextSource>``); pictures, PDFs, audio and video are skipped. The text is
  ``<PlainTextContent>`` or the ``internal://`` file ``plainTextPath`` names, decoded as UTF-8
  (a byte-order mark is dropped; UTF-16 with a byte-order mark is accepted) and otherwise kept
  as it is, CRLF included. A source with only a ``richTextPath`` (.docx) is refused, because
  REFI-QDA selections count characters of the plain text the exporting program made, which
  intercoder cannot reproduce from the .docx; so is a source stored outside the archive.
- Turns are found with the plain-text rule (``Speaker: text`` labels; unlabelled text is one
  turn with speaker ""), with offsets into the source's own text, and split into sentences by
  the ``segmenter`` (the default rule-based one when None). An empty source is kept, with no
  turns and no sentences.
- ``transcript.id`` is the source's name without a document extension (.txt, .docx, .rtf,
  .pdf...), or its GUID when it has no name; a repeated id gets ``_2``, ``_3``...
- Codings: every ``<Coding>`` of a ``<PlainTextSelection>`` (several per selection are fine)
  and every ``<Coding>`` of a whole source (taken as a selection of all its text). Its coder is
  the name of the ``<User>`` its ``creatingUser`` (else the selection's) names, the user's GUID
  when no ``<User>`` has it, and "unknown" when neither names one. Offsets count code points, or
  UTF-16 code units with ``utf16_offsets`` (NVivo for Windows; see
  :mod:`codebook.refi.offsets`).
- The codebook (and project-level ``<Sets>`` of codes) is read as in :mod:`codebook.refi.codes`;
  without intercoder's note it is named after the project and its ``source`` is the ``origin``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from codebook.errors import RefiFileError
from codebook.model import Codebook
from codebook.refi.codes import code_guid, codebook_from_xml
from codebook.refi.limits import DEFAULT_LIMITS, RefiLimits, SafeArchive
from codebook.refi.model import UNKNOWN_CODER, RefiProject, RefiSelection, RefiSource
from codebook.refi.offsets import OffsetCounter
from codebook.refi.overlap import DEFAULT_RULE, OverlapRule, coded_table
from codebook.refi.qdc import name_from_source, read_qdc
from codebook.refi.xmltools import (
    child,
    children,
    guid_of,
    local_name,
    optional_guid,
    parse_xml,
)
from codebook.transcripts.formats import decode_text
from codebook.transcripts.model import Sentence, Transcript, UnreadableError
from codebook.transcripts.plaintext import parse_labelled_text
from codebook.transcripts.segment import Segmenter, split_sentences

_DOCUMENT_SUFFIXES = frozenset({".txt", ".text", ".md", ".docx", ".doc", ".rtf", ".odt", ".pdf"})


def read_qdpx(
    data: bytes,
    *,
    source: str = "<qdpx>",
    rule: OverlapRule = DEFAULT_RULE,
    utf16_offsets: bool = False,
    segmenter: Segmenter | None = None,
    limits: RefiLimits = DEFAULT_LIMITS,
) -> RefiProject:
    """The project in a .qdpx file's bytes; RefiFileError naming ``source`` when it is bad."""
    archive = SafeArchive(data, source, limits)
    document = archive.project_document()
    where = f"REFI-QDA project {source} ({document})"
    root = parse_xml(archive.read(document, limits.max_xml_bytes), where, limits.max_xml_bytes)
    if local_name(root.tag) != "Project":
        raise RefiFileError(
            f"{where} has a <{local_name(root.tag)}> root element where a <Project> was "
            "expected; export the project again from the QDA program"
        )
    name = (root.get("name") or "").strip() or name_from_source(source)
    codebook = _codebook(root, name, where)
    users = _users(root)
    reader = _SourceReader(archive, codebook, users, utf16_offsets, where)
    sources: list[RefiSource] = []
    selections: list[RefiSelection] = []
    holder = child(root, "Sources")
    for element in children(holder, "TextSource") if holder is not None else ():
        found, found_selections = reader.read(element, segmenter)
        sources.append(found)
        selections += found_selections
    coders = _coders(users, selections)
    coded = coded_table(sources, selections, coders, codebook, rule)
    warnings = tuple(reader.warnings)
    return RefiProject(name, codebook, tuple(sources), tuple(selections), coded, coders, warnings)


def read_refi_file(
    path: Path,
    *,
    rule: OverlapRule = DEFAULT_RULE,
    utf16_offsets: bool = False,
    segmenter: Segmenter | None = None,
    limits: RefiLimits = DEFAULT_LIMITS,
) -> RefiProject:
    """A .qdpx project, or a .qdc codebook as a project with no sources, from a file."""
    suffix = path.suffix.lower()
    if suffix not in (".qdc", ".qdpx"):
        raise RefiFileError(
            f"{path} is not a REFI-QDA file: expected the extension .qdc (codebook) or .qdpx "
            f"(project), found {suffix or 'none'}; export from the QDA program in REFI-QDA format"
        )
    cap = limits.max_archive_bytes if suffix == ".qdpx" else limits.max_xml_bytes
    try:
        size = path.stat().st_size
        if size > cap:
            raise RefiFileError(
                f"{path} is {size} bytes, over the limit of {cap}; raise the REFI-QDA limits "
                "if the file is genuine"
            )
        data = path.read_bytes()
    except OSError as error:
        raise RefiFileError(
            f"cannot read {path}: {error.strerror or type(error).__name__}; check the path"
        ) from None
    if suffix == ".qdpx":
        return read_qdpx(
            data,
            source=str(path),
            rule=rule,
            utf16_offsets=utf16_offsets,
            segmenter=segmenter,
            limits=limits,
        )
    codebook = read_qdc(data, source=str(path), limits=limits)
    empty = coded_table((), (), (), codebook, rule)
    return RefiProject(codebook.name, codebook, (), (), empty, ())


class _SourceReader:
    """Reads ``<TextSource>`` elements into sources and selections, keeping ids unique."""

    def __init__(
        self,
        archive: SafeArchive,
        codebook: Codebook,
        users: dict[str, str],
        utf16: bool,
        where: str,
    ) -> None:
        self.archive = archive
        self.code_ids = {code_guid(codebook, code): code.id for code in codebook.codes}
        self.users = users
        self.utf16 = utf16
        self.where = where
        self.taken: set[str] = set()
        self.warnings: list[str] = []

    def read(
        self, element: ET.Element, segmenter: Segmenter | None
    ) -> tuple[RefiSource, list[RefiSelection]]:
        guid = guid_of(element, "guid", self.where)
        name = (element.get("name") or "").strip() or guid
        text = self._text(element, name)
        transcript = Transcript(
            id=self._transcript_id(name, guid),
            source_format="text",
            text=text,
            turns=tuple(parse_labelled_text(text)),
        )
        sentences: tuple[Sentence, ...] = ()
        if transcript.turns:
            split = segmenter.split if segmenter is not None else split_sentences
            sentences = tuple(split(transcript))
        found = RefiSource(guid=guid, name=name, transcript=transcript, sentences=sentences)
        return found, self._selections(element, guid, name, text)

    def _text(self, element: ET.Element, name: str) -> str:
        inline = child(element, "PlainTextContent")
        if inline is not None:
            return inline.text or ""
        path = (element.get("plainTextPath") or "").strip()
        if not path:
            rich = element.get("richTextPath")
            has = f"only the rich-text file {rich}" if rich else "no text"
            raise RefiFileError(
                f"{self.where}: text source {name!r} has {has} and no plain-text version "
                "(plainTextPath or PlainTextContent); REFI-QDA selections count characters of "
                "the plain text, so intercoder cannot place codings without it; export the "
                "project again (REFI-QDA 1.5 requires the plain text of every text source)"
            )
        scheme, separator, rest = path.partition("://")
        if scheme.lower() != "internal" or not separator:
            raise RefiFileError(
                f"{self.where}: text source {name!r} is stored outside the project ({path}); "
                "export the project again with its sources inside it (internal://)"
            )
        entry = self.archive.source_entry(rest, f"text source {name!r}")
        try:
            return decode_text(self.archive.read(entry))
        except UnreadableError as error:
            raise RefiFileError(
                f"{self.where}: text source {name!r} ({entry}) is not text: it has "
                f"{error.found}; {error.fix}"
            ) from None

    def _transcript_id(self, name: str, guid: str) -> str:
        base, dot, extension = name.rpartition(".")
        if not (dot and f".{extension.lower()}" in _DOCUMENT_SUFFIXES and base.strip()):
            base = name
        base = base.strip() or guid
        candidate, number = base, 2
        while candidate in self.taken:
            candidate, number = f"{base}_{number}", number + 1
        self.taken.add(candidate)
        return candidate

    def _selections(
        self, element: ET.Element, source_guid: str, name: str, text: str
    ) -> list[RefiSelection]:
        counter = OffsetCounter(text, utf16=self.utf16)
        found: list[RefiSelection] = []
        snapped = 0
        for selection in children(element, "PlainTextSelection"):
            guid = guid_of(selection, "guid", self.where)
            start, moved_start = self._index(selection, "startPosition", counter, name)
            end, moved_end = self._index(selection, "endPosition", counter, name)
            snapped += moved_start or moved_end
            if start > end:
                raise self._bad_span(name, guid, "starts after it ends", counter)
            default_user = optional_guid(selection, "creatingUser")
            for coding in children(selection, "Coding"):
                code_id, coder = self._coding(coding, default_user)
                found.append(RefiSelection(source_guid, start, end, code_id, coder, guid))
        for coding in children(element, "Coding"):
            code_id, coder = self._coding(coding, None)
            guid = guid_of(coding, "guid", self.where)
            found.append(RefiSelection(source_guid, 0, len(text), code_id, coder, guid))
        if snapped:
            self.warnings.append(
                f"text source {name!r}: {snapped} selection(s) split a character (an offset "
                "between the two UTF-16 units of an emoji or other character outside the "
                "BMP); each was widened to the whole character"
            )
        return found

    def _index(
        self, selection: ET.Element, attribute: str, counter: OffsetCounter, name: str
    ) -> tuple[int, bool]:
        """The ``str`` index of a selection's offset, and whether it was snapped."""
        raw = selection.get(attribute)
        guid = selection.get("guid")
        try:
            offset = int((raw or "").strip())
        except ValueError:
            raise self._bad_span(
                name, guid, f"has {attribute}={raw!r}, not a whole number", counter
            ) from None
        found = counter.to_index_snapped(offset, is_end=attribute == "endPosition")
        if found is None:
            raise self._bad_span(name, guid, f"has {attribute}={offset}", counter)
        return found

    def _bad_span(
        self, name: str, guid: str | None, found: str, counter: OffsetCounter
    ) -> RefiFileError:
        unit = "UTF-16 code units" if self.utf16 else "code points"
        hint = (
            ""
            if self.utf16
            else "; if the file comes from NVivo for Windows, read it with UTF-16 offsets"
        )
        return RefiFileError(
            f"{self.where}: selection {guid} in text source {name!r} {found}, but a selection "
            f"must lie within the text's {counter.length} {unit} and start before its end"
            f"{hint}; otherwise export the project again"
        )

    def _coding(self, coding: ET.Element, default_user: str | None) -> tuple[str, str]:
        reference = child(coding, "CodeRef")
        raw = reference.get("targetGUID") if reference is not None else None
        target = optional_guid(reference, "targetGUID") if reference is not None else None
        if target not in self.code_ids:
            raise RefiFileError(
                f"{self.where}: coding {coding.get('guid')} refers to code {raw!r}, which the "
                "project's codebook does not have; export the project again from the QDA program"
            )
        user = optional_guid(coding, "creatingUser") or default_user
        coder = self.users.get(user, user) if user is not None else UNKNOWN_CODER
        return self.code_ids[target], coder


def _codebook(root: ET.Element, name: str, where: str) -> Codebook:
    holder = child(root, "CodeBook")
    if holder is None:
        raise RefiFileError(
            f"{where} has no <CodeBook>; intercoder needs the project's codes, so export the "
            "project again with its codebook"
        )
    sets = child(root, "Sets")
    return codebook_from_xml(
        holder,
        children(sets, "Set") if sets is not None else (),
        name=name,
        source=root.get("origin") or "",
        where=where,
    )


def _users(root: ET.Element) -> dict[str, str]:
    """User GUID -> coder name (name, else id, else GUID); repeated names get the GUID's start."""
    holder = child(root, "Users")
    named: dict[str, str] = {}
    for user in children(holder, "User") if holder is not None else ():
        guid = optional_guid(user, "guid")
        if guid is not None:
            named[guid] = (user.get("name") or "").strip() or (user.get("id") or "").strip() or guid
    counts = Counter(named.values())
    return {
        guid: name if counts[name] == 1 else f"{name} ({guid[:8]})" for guid, name in named.items()
    }


def _coders(users: dict[str, str], selections: list[RefiSelection]) -> tuple[str, ...]:
    """Users with codings in ``<Users>`` order, then other coders in order of appearance."""
    used = dict.fromkeys(selection.coder for selection in selections)
    listed = [name for name in users.values() if name in used]
    return (*listed, *(coder for coder in used if coder not in listed))
