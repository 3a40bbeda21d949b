"""Splitting a transcript's turns into sentences with spaCy.

By default the rule-based ``sentencizer`` on a blank English pipeline does it: no trained
weights, nothing to download, and good enough on punctuated transcripts. A trained pipeline the
user has installed (``en_core_web_sm``...) can be named instead; intercoder never downloads one.

Sentences never cross a turn, nor a blank line inside a turn (a paragraph break ends a sentence
even when the transcriber left out the full stop). A sentence's text is trimmed of white space
and its offsets point into ``Transcript.text``; spans holding only white space are dropped.
spaCy is imported when the first Segmenter is built, so ``import codebook`` stays light.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from codebook.errors import DatasetUnavailableError, TranscriptError
from codebook.transcripts.model import Sentence, Transcript

_NEWLINE = r"(?:\r\n|\r(?!\n)|\n)"
_BLANK_LINE = re.compile(rf"{_NEWLINE}[^\S\r\n]*{_NEWLINE}")
_SENTENCE_PIPES = ("parser", "senter", "sentencizer")


class Segmenter:
    """Splits transcripts into sentences; builds its spaCy pipeline once, reuse it."""

    def __init__(self, pipeline: str | None = None) -> None:
        self.pipeline = pipeline
        self._nlp = _load_pipeline(pipeline)

    def split(self, transcript: Transcript) -> list[Sentence]:
        """The transcript's sentences, in order, numbered from 0 across the whole transcript."""
        pieces = [
            (turn, start, end) for turn in transcript.turns for start, end in _paragraphs(turn.text)
        ]
        longest = max((end - start for _, start, end in pieces), default=0)
        # A turn is one person talking, so a long one is still fine for the sentencizer; spaCy's
        # default limit guards memory for trained parsers on whole books, not for this.
        self._nlp.max_length = max(self._nlp.max_length, longest + 1)
        docs = self._nlp.pipe(turn.text[start:end] for turn, start, end in pieces)
        sentences: list[Sentence] = []
        for (turn, offset, _), doc in zip(pieces, docs, strict=True):
            for span in doc.sents:
                raw: str = span.text
                text = raw.strip()
                if not text:
                    continue
                start = turn.start + offset + span.start_char + len(raw) - len(raw.lstrip())
                sentences.append(
                    Sentence(
                        transcript_id=transcript.id,
                        index=len(sentences),
                        turn_index=turn.index,
                        speaker=turn.speaker,
                        text=text,
                        start=start,
                        end=start + len(text),
                    )
                )
        return sentences


def split_sentences(transcript: Transcript, pipeline: str | None = None) -> list[Sentence]:
    """``Segmenter(pipeline).split(transcript)``, reusing one Segmenter per pipeline name."""
    return _cached_segmenter(pipeline).split(transcript)


@lru_cache(maxsize=4)
def _cached_segmenter(pipeline: str | None) -> Segmenter:
    return Segmenter(pipeline)


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each stretch of ``text`` between blank lines that holds some text."""
    start = 0
    for gap in _BLANK_LINE.finditer(text):
        if text[start : gap.start()].strip():
            yield start, gap.start()
        start = gap.end()
    if text[start:].strip():
        yield start, len(text)


def _load_pipeline(name: str | None) -> Any:
    """The spaCy pipeline: blank English with a sentencizer, or the installed one named."""
    import spacy

    if name is None:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return nlp
    try:
        nlp = spacy.load(name)
    except (OSError, ImportError) as error:
        raise DatasetUnavailableError(
            f"the spaCy pipeline {name!r} is not installed: expected an installed pipeline "
            "package or a pipeline folder of that name, found neither; install it on a "
            f"machine with network access (python -m spacy download {name}), or leave out "
            "the pipeline option to use the built-in rule-based sentencizer"
        ) from error
    if not any(nlp.has_pipe(component) for component in _SENTENCE_PIPES):
        if "senter" not in nlp.disabled:
            raise TranscriptError(
                f"the spaCy pipeline {name!r} cannot split sentences: expected a parser, "
                f"senter or sentencizer component, found {', '.join(nlp.pipe_names) or 'none'}; "
                "choose a pipeline with one, or leave out the pipeline option"
            )
        nlp.enable_pipe("senter")
    return nlp
