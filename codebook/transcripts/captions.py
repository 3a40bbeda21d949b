"""WebVTT and SubRip captions: cues to speaker turns.

A cue's speaker is its WebVTT voice span (``<v Jane Doe>...</v>``, as Microsoft Teams writes)
or a ``Name: text`` prefix (as Zoom writes, and as SRT files sometimes carry); a cue without
either has speaker ``""``. A cue holding several voice spans gives one piece per span.
Consecutive pieces of the same speaker, including the unknown speaker ``""``, merge into one
turn (captions cut sentences anywhere, so keeping cues apart would cut sentences too): the
turn's ``start_time`` is its first cue's start and its ``end_time`` its last cue's end. Cue
markup (``<i>``, ``<b>``, ``<c.x>``, ``{\\an8}``) is dropped, character references are decoded
and the line breaks inside a cue become spaces.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable

from codebook.transcripts.model import TurnDraft, UnreadableError
from codebook.transcripts.plaintext import split_cue_speaker

_VOICE = re.compile(r"<v(?:\.[^\s>]*)*\s+([^>]*)>")
_MARKUP = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def vtt_turns(text: str) -> list[TurnDraft]:
    """Turns of a WebVTT file; UnreadableError when it is not WebVTT."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.WebVTT.from_buffer(io.StringIO(text)).captions
    except MalformedFileError as error:
        raise UnreadableError(
            "no 'WEBVTT' header on the first line",
            "export the captions as WebVTT again, or give the file's real format",
        ) from error
    except (MalformedCaptionError, ValueError) as error:
        raise UnreadableError(
            f"a cue with a malformed timing ({error})",
            "fix the cue's 'hh:mm:ss.mmm --> hh:mm:ss.mmm' line",
        ) from error
    pieces: list[TurnDraft] = []
    for caption in captions:
        start = caption.start_time.in_milliseconds() / 1000
        end = caption.end_time.in_milliseconds() / 1000
        for speaker, body in _voice_pieces(caption.raw_text):
            pieces.append(_piece(speaker, body, start, end))
    return merge_consecutive(pieces)


def srt_turns(text: str) -> list[TurnDraft]:
    """Turns of a SubRip file; UnreadableError when it is not SubRip."""
    import srt

    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as error:
        raise UnreadableError(
            f"text that is not SubRip ({error})",
            "export the captions as SRT again, or give the file's real format",
        ) from error
    pieces = [
        _piece(None, subtitle.content, subtitle.start.total_seconds(), subtitle.end.total_seconds())
        for subtitle in subtitles
    ]
    return merge_consecutive(pieces)


def merge_consecutive(pieces: Iterable[TurnDraft]) -> list[TurnDraft]:
    """Pieces with text, consecutive ones of the same speaker joined by a space."""
    turns: list[TurnDraft] = []
    for piece in pieces:
        if not piece.text:
            continue
        if turns and turns[-1].speaker == piece.speaker:
            last = turns[-1]
            turns[-1] = last._replace(text=f"{last.text} {piece.text}", end_time=piece.end_time)
        else:
            turns.append(piece)
    return turns


def _voice_pieces(raw: str) -> list[tuple[str | None, str]]:
    """(voice or None, markup) for the text before the first voice span and for each span."""
    parts = _VOICE.split(raw)
    pieces: list[tuple[str | None, str]] = [(None, parts[0])]
    pieces += [
        (" ".join(name.split()), body) for name, body in zip(parts[1::2], parts[2::2], strict=True)
    ]
    return pieces


def _piece(speaker: str | None, markup: str, start: float, end: float) -> TurnDraft:
    """A cue's piece: markup removed, white space collapsed, a ``Name:`` prefix read if needed."""
    text = " ".join(html.unescape(_MARKUP.sub("", markup)).split())
    if speaker is None:
        speaker, text = split_cue_speaker(text)
    return TurnDraft(speaker=speaker, text=text, start_time=start, end_time=end)
