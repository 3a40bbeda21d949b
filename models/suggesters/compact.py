"""Suggestions as columns, for coding many units at once (``intercoder code``).

The same decisions, ranking and nearest exemplars as :func:`models.suggesters.evidence.
build_suggestions`, but kept as plain columns: the codes shown (decided ones first, then the
best others up to ``top_n``, as a :class:`~models.suggestions.UnitSuggestion` lists them), their
scores, and as evidence the id of the nearest supporting exemplar of each decided code (for "no
code", of the nearest uncoded exemplar). Building an answer object with its evidence per unit
cost a batch run about a fifth of its time beside a fast encoder; these columns cost a tenth of
that, and ``tests/test_compact_suggestions.py`` holds them equal to the full answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from models.suggesters.search import Neighbours

if TYPE_CHECKING:
    from models.suggesters.base import BaseSuggester, Decisions


@dataclass(frozen=True)
class CompactSuggestions:
    """One row per unit: what a table of coded units holds."""

    suggested: list[list[str]]
    codes: list[list[str]]
    scores: list[list[float]]
    confidence: list[float]
    no_code: list[bool]
    abstained: list[bool]
    skipped: list[bool]
    evidence_ids: list[list[int]]

    def __len__(self) -> int:
        return len(self.suggested)

    def spread(self, coded: list[bool]) -> CompactSuggestions:
        """These rows (one per True in ``coded``) in place among skipped units' empty rows."""
        rows = iter(range(len(self)))
        taken = [next(rows) if keep else -1 for keep in coded]
        columns = {
            name: [getattr(self, name)[row] if row >= 0 else _copy(_SKIPPED[name]) for row in taken]
            for name in _FIELDS
        }
        return CompactSuggestions(**columns)  # type: ignore[arg-type]


def _copy(value: object) -> object:
    return list(value) if isinstance(value, list) else value


_FIELDS = tuple(CompactSuggestions.__dataclass_fields__)
_SKIPPED: dict[str, object] = {
    "suggested": [], "codes": [], "scores": [], "confidence": 0.0, "no_code": False,
    "abstained": False, "skipped": True, "evidence_ids": [],
}  # fmt: skip


def build_compact(
    *, suggester: BaseSuggester, decisions: Decisions, neighbours: Neighbours
) -> CompactSuggestions:
    code_ids = decisions.code_ids
    ranked = np.argsort(-decisions.scores, axis=1, kind="stable")
    decided_ranked = np.take_along_axis(decisions.decided, ranked, axis=1)
    clipped = np.clip(decisions.scores, 0.0, 1.0)
    carries, uncoded = _exemplar_labels(suggester, code_ids)
    rows = _Rows()
    for row in range(len(ranked)):
        order = ranked[row]
        decided = order[decided_ranked[row]].tolist()
        shown = list(dict.fromkeys([*decided, *order[: suggester.top_n].tolist()]))
        abstained = bool(decisions.abstained[row])
        found = neighbours.positions[row]
        found = found[found >= 0]
        chosen = [] if abstained else decided
        rows.suggested.append([code_ids[j] for j in chosen])
        rows.codes.append([code_ids[j] for j in shown])
        rows.scores.append(clipped[row, shown].tolist())
        rows.abstained.append(abstained)
        rows.no_code.append(not abstained and not chosen)
        evidence = [] if abstained else _evidence(suggester, found, chosen, carries, uncoded)
        rows.evidence_ids.append(evidence)
    rows.confidence = np.clip(decisions.confidence, 0.0, 1.0).tolist()
    return rows.done()


class _Rows:
    def __init__(self) -> None:
        self.suggested: list[list[str]] = []
        self.codes: list[list[str]] = []
        self.scores: list[list[float]] = []
        self.confidence: list[float] = []
        self.no_code: list[bool] = []
        self.abstained: list[bool] = []
        self.evidence_ids: list[list[int]] = []

    def done(self) -> CompactSuggestions:
        return CompactSuggestions(
            suggested=self.suggested,
            codes=self.codes,
            scores=self.scores,
            confidence=self.confidence,
            no_code=self.no_code,
            abstained=self.abstained,
            skipped=[False] * len(self.suggested),
            evidence_ids=self.evidence_ids,
        )


def _exemplar_labels(
    suggester: BaseSuggester, code_ids: tuple[str, ...]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which exemplar carries which code (columns as ``code_ids``), and which carry none."""
    exemplars = suggester.exemplars_
    uncoded = np.array([not codes for codes in exemplars.codes], dtype=bool)
    return exemplars.label_matrix(code_ids), uncoded


def _evidence(
    suggester: BaseSuggester,
    found: NDArray[np.int64],
    chosen: list[int],
    carries: NDArray[np.bool_],
    uncoded: NDArray[np.bool_],
) -> list[int]:
    """The nearest found exemplar carrying each chosen code; with none chosen, the nearest
    uncoded one (none when the search found no such exemplar)."""
    ids = suggester.exemplars_.ids
    if not chosen:
        hits = np.flatnonzero(uncoded[found])
        return [int(ids[found[hits[0]]])] if hits.size else []
    evidence = []
    for column in chosen:
        hits = np.flatnonzero(carries[found, column])
        if hits.size:
            evidence.append(int(ids[found[hits[0]]]))
    return evidence
