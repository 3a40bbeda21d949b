"""A transcript, its speaker turns and its sentences, with offsets into the transcript's text.

Every offset counts Unicode code points in :attr:`Transcript.text` and the end is exclusive, so
``transcript.text[turn.start:turn.end] == turn.text`` and the same holds for a sentence. A
coder's highlight in the original file can then be matched to a sentence by offsets alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

SourceFormat = Literal["text", "vtt", "srt", "docx", "csv"]
"""The kind of file a transcript was read from."""


class Turn(BaseModel):
    """What one speaker said without interruption: one labelled block, merged cues or a row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    speaker: str
    text: str
    start: int
    end: int
    start_time: float | None = None
    end_time: float | None = None


class Sentence(BaseModel):
    """One sentence of a turn: the unit intercoder suggests codes for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transcript_id: str
    index: int
    turn_index: int
    speaker: str
    text: str
    start: int
    end: int


class Transcript(BaseModel):
    """A transcript's plain text and its turns; never empty (readers refuse a speechless file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    source_format: SourceFormat
    text: str
    turns: tuple[Turn, ...]


class UnreadableError(ValueError):
    """What a reader found wrong with a file, and how to fix it.

    Readers do not know the file's name; :mod:`codebook.transcripts.formats` turns this into a
    :class:`~codebook.errors.TranscriptError` that names it.
    """

    def __init__(self, found: str, fix: str) -> None:
        super().__init__(found)
        self.found = found
        self.fix = fix


class TurnDraft(NamedTuple):
    """A turn read from a format whose plain text intercoder renders (captions, CSV rows)."""

    speaker: str
    text: str
    start_time: float | None = None
    end_time: float | None = None


def render_turns(drafts: Iterable[TurnDraft]) -> tuple[str, tuple[Turn, ...]]:
    """The plain text ``Speaker: text`` + blank line per turn, and the turns pointing into it.

    The label is left out when the speaker is unknown. Offsets point at the turn's text, not at
    the label, so a sentence never includes the speaker's name.
    """
    parts: list[str] = []
    turns: list[Turn] = []
    position = 0
    for draft in drafts:
        label = f"{draft.speaker}: " if draft.speaker else ""
        start = position + len(label)
        end = start + len(draft.text)
        turns.append(
            Turn(
                index=len(turns),
                speaker=draft.speaker,
                text=draft.text,
                start=start,
                end=end,
                start_time=draft.start_time,
                end_time=draft.end_time,
            )
        )
        parts += [label, draft.text, "\n\n"]
        position = end + 2
    return "".join(parts), tuple(turns)
