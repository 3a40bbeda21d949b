"""From highlighted spans to coded sentences: the overlap rule.

A QDA program stores codings as spans a coder highlighted, which rarely match sentence
boundaries: a coder highlights half a sentence, or a paragraph, or a phrase. intercoder codes
sentences, so :class:`OverlapRule` decides when a sentence takes a code: a coder's spans with
that code, merged, must cover at least ``min_share`` of the sentence. Only non-white-space
characters are counted, so the spaces and line breaks a highlight happens to include or miss
do not tip the balance. With the default 0.5, a highlight over half a sentence codes it; a
sentence inside a highlighted paragraph is coded; a three-word phrase in a long sentence is not.
Codes that are categories (``codable=False``) never reach the table.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

import pandas as pd

from codebook.coded import CodedUnit, coded_frame
from codebook.errors import RefiFileError
from codebook.model import Codebook
from codebook.refi.model import RefiSelection, RefiSource
from codebook.transcripts.model import Sentence

Span = tuple[int, int]


@dataclass(frozen=True)
class OverlapRule:
    """When a sentence takes a code: a share of its characters that a coder's spans must cover.

    A sentence takes a coder's code when that coder's spans with the code, merged, cover at
    least ``min_share`` (0 < min_share <= 1) of the sentence's non-white-space characters.
    """

    min_share: float = 0.5

    def __post_init__(self) -> None:
        if not (isinstance(self.min_share, int | float) and 0 < self.min_share <= 1):
            raise RefiFileError(
                f"the overlap rule's min_share must be a share above 0 and at most 1, found "
                f"{self.min_share!r}; give e.g. 0.5 (half of a sentence) or 1 (all of it)"
            )

    def applies(self, covered: int, total: int) -> bool:
        """Whether ``covered`` of ``total`` counted characters is enough (float noise ignored)."""
        return total > 0 and covered >= math.ceil(self.min_share * total - 1e-9)


DEFAULT_RULE = OverlapRule()


def merge_spans(spans: Sequence[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering the same characters (touching spans joined)."""
    merged: list[Span] = []
    for start, end in sorted(span for span in spans if span[1] > span[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class CoverageCounter:
    """Counts the non-white-space characters of a text that merged spans cover."""

    def __init__(self, text: str) -> None:
        self._before = [0, *accumulate(0 if char.isspace() else 1 for char in text)]

    def count(self, start: int, end: int) -> int:
        """Non-white-space characters in ``text[start:end]``."""
        return self._before[end] - self._before[start]

    def covered(self, start: int, end: int, merged: Sequence[Span]) -> int:
        """Non-white-space characters of ``text[start:end]`` inside the merged spans."""
        total = 0
        first = bisect_right(merged, start, key=lambda span: span[1])
        for span_start, span_end in merged[first:]:
            if span_start >= end:
                break
            low, high = max(start, span_start), min(end, span_end)
            if low < high:
                total += self.count(low, high)
        return total


def sentence_codes(
    sentence: Sentence,
    spans_by_code: dict[str, list[Span]],
    counter: CoverageCounter,
    rule: OverlapRule,
) -> frozenset[str]:
    """The codes whose merged spans cover enough of the sentence."""
    total = counter.count(sentence.start, sentence.end)
    return frozenset(
        code
        for code, merged in spans_by_code.items()
        if rule.applies(counter.covered(sentence.start, sentence.end, merged), total)
    )


def coded_table(
    sources: Sequence[RefiSource],
    selections: Sequence[RefiSelection],
    coders: Sequence[str],
    codebook: Codebook,
    rule: OverlapRule,
) -> pd.DataFrame:
    """The coded-sentences table (see :class:`~codebook.refi.RefiProject`)."""
    return coded_frame(list(_units(sources, selections, coders, codebook, rule)))


def _units(
    sources: Sequence[RefiSource],
    selections: Sequence[RefiSelection],
    coders: Sequence[str],
    codebook: Codebook,
    rule: OverlapRule,
) -> Iterator[CodedUnit]:
    codable = set(codebook.codable_ids)
    for source in sources:
        here = [selection for selection in selections if selection.source_guid == source.guid]
        counter = CoverageCounter(source.transcript.text)
        for coder in (c for c in coders if any(s.coder == c for s in here)):
            spans: dict[str, list[Span]] = {}
            for selection in here:
                if selection.coder == coder and selection.code_id in codable:
                    spans.setdefault(selection.code_id, []).append((selection.start, selection.end))
            merged = {code: merge_spans(code_spans) for code, code_spans in spans.items()}
            yield from _coder_units(source, coder, merged, counter, rule)


def _coder_units(
    source: RefiSource,
    coder: str,
    merged: dict[str, list[Span]],
    counter: CoverageCounter,
    rule: OverlapRule,
) -> Iterator[CodedUnit]:
    previous = ""
    for sentence in source.sentences:
        yield CodedUnit(
            transcript_id=source.transcript.id,
            unit_id=str(sentence.index),
            turn_index=sentence.turn_index,
            text=sentence.text,
            codes=sentence_codes(sentence, merged, counter, rule),
            speaker=sentence.speaker,
            coder=coder,
            previous_text=previous,
        )
        previous = sentence.text
