"""Reading a transcript file (or an upload's bytes) in any supported format.

``Transcript.text`` is the user's own text where there is one: for plain text it is the decoded
file, byte-order mark removed and otherwise unchanged (CRLF line breaks included), so offsets
point into the user's file; for a ``.docx`` it is the document's paragraphs joined by ``\\n``
(see :mod:`codebook.transcripts.documents`). Captions and CSV rows have no running text, so
intercoder renders one: each turn as ``Speaker: text`` (just ``text`` when the speaker is
unknown) followed by a blank line (``"\\n\\n"``), the turn's offsets pointing at ``text``.

Text is decoded as UTF-8 (with or without a byte-order mark), or as UTF-16 when it starts with
a UTF-16 byte-order mark. Every failure is a :class:`~codebook.errors.TranscriptError` saying
what was expected, what was found and how to fix it; a transcript with no speech is refused
rather than returned empty.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from os import PathLike
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import get_args

from codebook.errors import TranscriptError
from codebook.transcripts.captions import srt_turns, vtt_turns
from codebook.transcripts.documents import csv_turns, docx_text
from codebook.transcripts.model import (
    SourceFormat,
    Transcript,
    Turn,
    UnreadableError,
    render_turns,
)
from codebook.transcripts.plaintext import parse_labelled_text

TRANSCRIPT_FORMATS: tuple[SourceFormat, ...] = get_args(SourceFormat)
"""The format names ``read_transcript`` and ``parse_transcript`` accept."""

TRANSCRIPT_EXTENSIONS: Mapping[str, SourceFormat] = MappingProxyType(
    {
        ".txt": "text",
        ".text": "text",
        ".md": "text",
        ".vtt": "vtt",
        ".srt": "srt",
        ".docx": "docx",
        ".csv": "csv",
    }
)
"""File extensions (lower case, with the dot) and the format each one means."""

_EXPECTED: Mapping[SourceFormat, str] = {
    "text": "plain text",
    "vtt": "WebVTT captions",
    "srt": "SubRip (SRT) captions",
    "docx": "a Word .docx document",
    "csv": "a CSV table with a header row",
}


def read_transcript(
    path: str | PathLike[str],
    *,
    format: str | None = None,
    transcript_id: str | None = None,
    speaker_column: str | None = None,
    text_column: str | None = None,
) -> Transcript:
    """Read a transcript file; the format defaults from the extension, the id is the file stem.

    ``speaker_column`` and ``text_column`` name a CSV's columns when they have unusual names.
    """
    path = Path(path)
    source_format = resolve_format(format, path.name)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise TranscriptError(
            f"cannot read transcript file {str(path)!r}: expected a readable file, "
            f"found {reason}; check the path"
        ) from error
    return _parse(
        data,
        source_format,
        path.stem if transcript_id is None else transcript_id,
        str(path),
        speaker_column,
        text_column,
    )


def parse_transcript(
    data: bytes,
    format: str | None,
    transcript_id: str,
    *,
    filename: str | None = None,
    speaker_column: str | None = None,
    text_column: str | None = None,
) -> Transcript:
    """Parse a transcript from bytes (an upload); ``format=None`` takes it from ``filename``."""
    source_format = resolve_format(format, filename)
    source = filename or transcript_id
    return _parse(data, source_format, transcript_id, source, speaker_column, text_column)


def resolve_format(format: str | None, filename: str | None = None) -> SourceFormat:
    """The format named (``"vtt"``, ``".vtt"``), else the one ``filename``'s extension means."""
    if format is not None:
        name = format.strip().lower().lstrip(".")
        for known in TRANSCRIPT_FORMATS:
            if name == known:
                return known
        if f".{name}" in TRANSCRIPT_EXTENSIONS:
            return TRANSCRIPT_EXTENSIONS[f".{name}"]
        raise TranscriptError(
            f"unknown transcript format {format!r}: expected one of "
            f"{', '.join(TRANSCRIPT_FORMATS)}; give one of those names"
        )
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in TRANSCRIPT_EXTENSIONS:
        return TRANSCRIPT_EXTENSIONS[suffix]
    found = f"extension {suffix!r}" if suffix else "no extension"
    raise TranscriptError(
        f"cannot tell the format of transcript {filename or '(unnamed)'!r}: expected one of the "
        f"extensions {', '.join(TRANSCRIPT_EXTENSIONS)}, found {found}; rename the file or "
        f"give its format ({', '.join(TRANSCRIPT_FORMATS)})"
    )


def decode_text(data: bytes) -> str:
    """UTF-8 (byte-order mark dropped), or UTF-16 after a UTF-16 byte-order mark."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, name = "utf-16", "UTF-16"
    else:
        encoding, name = "utf-8-sig", "UTF-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableError(
            f"bytes that are not valid {name} at byte offset {error.start}",
            "save the file as UTF-8",
        ) from error


def _parse(
    data: bytes,
    source_format: SourceFormat,
    transcript_id: str,
    source: str,
    speaker_column: str | None,
    text_column: str | None,
) -> Transcript:
    if not data.strip():
        found = "an empty file" if not data else "only white space"
        raise _no_speech(source, found)
    try:
        text, turns = _read(data, source_format, speaker_column, text_column)
    except UnreadableError as problem:
        raise TranscriptError(
            f"cannot read transcript {source!r}: expected {_EXPECTED[source_format]}, "
            f"found {problem.found}; {problem.fix}"
        ) from problem
    if not turns:
        found = (
            "only white space"
            if not text.strip()
            else f"{_EXPECTED[source_format]} whose turns are all empty"
        )
        raise _no_speech(source, found)
    return Transcript(id=transcript_id, source_format=source_format, text=text, turns=turns)


def _read(
    data: bytes,
    source_format: SourceFormat,
    speaker_column: str | None,
    text_column: str | None,
) -> tuple[str, tuple[Turn, ...]]:
    """The transcript's text and turns; UnreadableError when the data is not in the format."""
    if source_format == "docx":
        text = docx_text(data)
        return text, tuple(parse_labelled_text(text))
    text = decode_text(data)
    if source_format == "text":
        return text, tuple(parse_labelled_text(text))
    if source_format == "vtt":
        return render_turns(vtt_turns(text))
    if source_format == "srt":
        return render_turns(srt_turns(text))
    return render_turns(csv_turns(text, speaker_column, text_column))


def _no_speech(source: str, found: str) -> TranscriptError:
    return TranscriptError(
        f"transcript {source!r} contains no speech: expected turns with text, found {found}; "
        "check that this is the right file"
    )
