"""Use case: store a transcript in a project, as its text and its sentences with offsets; an
upload's file name checked, and the transcript id made from it."""

from __future__ import annotations

import re
from pathlib import PurePath

from codebook.errors import TranscriptError
from codebook.transcripts import parse_transcript, split_sentences
from service.app.workspace import Workspace
from service.store.transcripts import TranscriptRow, insert_transcript

_NOT_IN_ID = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_FILENAME = 255


def plain_filename(name: str | None) -> str:
    """The upload's file name when it is a plain name; TranscriptError for paths and oddities."""
    if not name:
        raise TranscriptError(
            "the upload has no file name: expected a name such as interview-03.vtt, whose "
            "extension tells the format; name the file, or give 'format'"
        )
    if (
        len(name) > _MAX_FILENAME
        or PurePath(name).name != name
        or "\\" in name
        or name in {".", ".."}
        or any(ord(character) < 32 for character in name)
    ):
        raise TranscriptError(
            f"the upload's file name {name[:80]!r} is not a plain file name: expected a name "
            "without folders, '..' or control characters (at most 255 characters); rename it"
        )
    return name


def transcript_id_from(filename: str) -> str:
    """The file name's stem as a transcript id: characters outside [A-Za-z0-9._-] become '-'."""
    slug = _NOT_IN_ID.sub("-", PurePath(filename).stem).strip("-._")[:128]
    if not slug:
        raise TranscriptError(
            f"cannot make a transcript id from the file name {filename!r}; give 'transcript_id'"
        )
    return slug


def add_transcript(
    workspace: Workspace,
    project_id: str,
    content: bytes,
    format: str | None,
    transcript_id: str,
    filename: str,
) -> TranscriptRow:
    """Read the file (``format`` or its extension), split it into sentences and store both;
    TranscriptError for a file that cannot be read, ConflictError for an id already taken."""
    transcript = parse_transcript(content, format, transcript_id, filename=filename)
    split = split_sentences(transcript)
    with workspace.store.write() as transaction:
        return insert_transcript(transaction.connection, project_id, transcript, filename, split)
