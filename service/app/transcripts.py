"""Use case: store a transcript in a project, as its text and its sentences with offsets."""

from __future__ import annotations

from codebook.transcripts import parse_transcript, split_sentences
from service.app.workspace import Workspace
from service.store.transcripts import TranscriptRow, insert_transcript


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
