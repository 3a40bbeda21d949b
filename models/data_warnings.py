"""When a coder's data is too small for its suggestions to mean much, and how to say so.

Decided here, once, for every interface (the command line, the HTTP API, batch summaries):

- **cold start**: no coded sentence yet; the suggestions come from the codebook's own texts.
- **thin codes**: a codable code carried by fewer than :data:`MIN_CODED_PER_CODE` coded
  sentences. The number is fixed, not tuned on any data set: it is the floor under which the
  evaluation gives no trust verdict at all (``eval.trust``, "too few examples"), and below it the
  grouped cross-validation that calibrates each code's threshold holds one or two positive
  sentences per fold, so the threshold rests on a handful of sentences.
- **dominant code**: in one batch, a code decided on at least half of the coded sentences and
  at least twice as often as the team gave it (:data:`DOMINANT_SHARE`,
  :data:`DOMINANT_OVER_PREVALENCE`). That is what a coder that has not learned to tell a code
  apart does (one code on 31 of 36 sentences, greetings included); a code the team really uses
  on most sentences is not flagged, because its share among the exemplars is as high.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from codebook.model import Codebook
from models.suggestions import UnitSuggestion

MIN_CODED_PER_CODE = 10
DOMINANT_SHARE = 0.5
DOMINANT_OVER_PREVALENCE = 2.0
MIN_UNITS_FOR_DOMINANCE = 10
"""Fewer coded sentences in a batch say nothing about a code's share (1 of 1 is 100%)."""
SHOWN_CODES = 8
"""Thin codes named in a message; the rest are counted, so the line stays readable."""

WarningKind = Literal["cold_start", "thin_codes", "dominant_code"]
COLD_START_MESSAGE = (
    "cold start: no coded sentences yet; suggestions come from the codebook's definitions "
    "and examples"
)


@dataclass(frozen=True)
class CodeCoverage:
    """How many coded sentences carry a code, and how many more it needs to stop being thin."""

    code: str
    coded: int
    more_needed: int


@dataclass(frozen=True)
class DataWarning:
    """One thing a user should know about the data behind the suggestions.

    ``codes``: the codes concerned (thin codes; the dominant code), with their coverage."""

    kind: WarningKind
    message: str
    codes: tuple[CodeCoverage, ...] = ()

    def as_json(self) -> dict[str, object]:
        """Plain JSON types (lists, not tuples), as a summary file or a response holds it."""
        codes = [dataclasses.asdict(code) for code in self.codes]
        return {"kind": self.kind, "message": self.message, "codes": codes}


def coverage(codes: Iterable[frozenset[str]], codebook: Codebook) -> tuple[CodeCoverage, ...]:
    """Each codable code's count of coded sentences carrying it, in codebook order."""
    counts = Counter(code for unit_codes in codes for code in unit_codes)
    return tuple(
        CodeCoverage(code, counts[code], max(MIN_CODED_PER_CODE - counts[code], 0))
        for code in codebook.codable_ids
    )


def data_warnings(
    cold_start: bool,
    exemplar_count: int,
    covered: Sequence[CodeCoverage],
    decided: Mapping[str, int] | None = None,
    units: int = 0,
) -> tuple[DataWarning, ...]:
    """The warnings for a coder's data, and, given a batch's ``decided`` count per code over
    ``units`` coded sentences, whether one code dominates it."""
    if cold_start:
        return (DataWarning("cold_start", COLD_START_MESSAGE),)
    found = [w for w in (_thin_warning(covered),) if w is not None]
    if decided is not None:
        found += _dominant_warnings(exemplar_count, covered, decided, units)
    return tuple(found)


def batch_warnings(
    cold_start: bool,
    exemplar_count: int,
    covered: Sequence[CodeCoverage],
    suggestions: Sequence[UnitSuggestion],
) -> tuple[DataWarning, ...]:
    """:func:`data_warnings` for a list of suggestions (skipped units do not count)."""
    coded = [unit for unit in suggestions if not unit.skipped]
    decided = Counter(code for unit in coded for code in unit.suggested)
    return data_warnings(cold_start, exemplar_count, covered, decided, len(coded))


def _thin_warning(covered: Sequence[CodeCoverage]) -> DataWarning | None:
    thin = tuple(c for c in covered if c.more_needed > 0)
    if not thin:
        return None
    # Codes someone has started on come first: they are the ones a user is working on.
    started = [c for c in thin if c.coded > 0]
    named = ", ".join(f"{c.code}: {c.coded}" for c in started[:SHOWN_CODES])
    hidden = len(started) - min(len(started), SHOWN_CODES)
    parts = [named] if named else []
    if hidden:
        parts.append(f"{hidden} others")
    if len(thin) > len(started):
        parts.append(f"{len(thin) - len(started)} with none")
    needed = sum(c.more_needed for c in thin)
    message = (
        f"{len(thin)} of {len(covered)} codes have fewer than {MIN_CODED_PER_CODE} coded "
        f"sentences ({'; '.join(parts)}): code about {needed} more codings of them before "
        "relying on their suggestions"
    )
    return DataWarning("thin_codes", message, thin)


def _dominant_warnings(
    exemplar_count: int, covered: Sequence[CodeCoverage], decided: Mapping[str, int], units: int
) -> list[DataWarning]:
    if units < MIN_UNITS_FOR_DOMINANCE:
        return []
    found = []
    for code in covered:
        share = decided.get(code.code, 0) / units
        prevalence = code.coded / max(exemplar_count, 1)
        if share >= DOMINANT_SHARE and share >= DOMINANT_OVER_PREVALENCE * prevalence:
            message = (
                f"{code.code} was suggested on {decided[code.code]} of {units} sentences but "
                f"carries {code.coded} of {exemplar_count} coded sentences: the coder has not "
                "learned to tell it apart; code more sentences, with and without it"
            )
            found.append(DataWarning("dominant_code", message, (code,)))
    return found
