"""Transcripts: reading interview files into speaker turns, and turns into sentences.

::

    read_transcript(path) / parse_transcript(data, format, id)  ->  Transcript (text + turns)
    Segmenter(pipeline).split(transcript) / split_sentences(...)  ->  [Sentence, ...]

Formats: plain text with speaker labels (``.txt``, ``.text``, ``.md``; the labelling rule is in
:mod:`codebook.transcripts.plaintext`), WebVTT (``.vtt``, Zoom and Teams speakers) and SubRip
(``.srt``) captions (:mod:`codebook.transcripts.captions`), Word ``.docx`` and CSV tables
(:mod:`codebook.transcripts.documents`). How ``Transcript.text`` is made for each is described in
:mod:`codebook.transcripts.formats`. Every offset is into ``Transcript.text``, in code points,
end exclusive.
"""

from __future__ import annotations

from codebook.transcripts.formats import (
    TRANSCRIPT_EXTENSIONS,
    TRANSCRIPT_FORMATS,
    parse_transcript,
    read_transcript,
    resolve_format,
)
from codebook.transcripts.model import Sentence, SourceFormat, Transcript, Turn
from codebook.transcripts.segment import Segmenter, split_sentences

__all__ = [
    "TRANSCRIPT_EXTENSIONS",
    "TRANSCRIPT_FORMATS",
    "Segmenter",
    "Sentence",
    "SourceFormat",
    "Transcript",
    "Turn",
    "parse_transcript",
    "read_transcript",
    "resolve_format",
    "split_sentences",
]
