"""Turning decisions and nearest exemplars into the suggestions a coder reads.

Evidence objects are made only for the exemplars a unit's answer shows, each once: building
one for every neighbour the search brought back cost more than a batch run's whole remaining
work besides encoding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from models.exemplars import Exemplars
from models.suggesters.search import Neighbours
from models.suggestions import CodeScore, Evidence, UnitSuggestion

if TYPE_CHECKING:
    from models.suggesters.base import BaseSuggester, Decisions


def build_suggestions(
    *,
    suggester: BaseSuggester,
    decisions: Decisions,
    no_code: NDArray[np.float64],
    neighbours: Neighbours,
    texts: list[str],
    model_id: str,
) -> list[UnitSuggestion]:
    exemplars = suggester.exemplars_
    codebook = suggester.codebook_
    suggestions = []
    for row, text in enumerate(texts):
        nearest = _Nearest(exemplars, neighbours, row)
        ranked = np.argsort(-decisions.scores[row], kind="stable")
        decided = [int(j) for j in ranked if decisions.decided[row, j]]
        shown = list(dict.fromkeys([*decided, *(int(j) for j in ranked[: suggester.top_n])]))
        abstained = bool(decisions.abstained[row])
        code_scores = [
            _code_score(
                code_id=decisions.code_ids[column],
                name=codebook.get(decisions.code_ids[column]).name,
                score=float(decisions.scores[row, column]),
                threshold=float(suggester.thresholds_[column]),
                suggested=bool(decisions.decided[row, column]) and not abstained,
                nearest=nearest,
                limit=suggester.n_evidence,
            )
            for column in shown
        ]
        suggested = [] if abstained else [decisions.code_ids[j] for j in decided]
        suggestions.append(
            UnitSuggestion(
                text=text,
                suggested=suggested,
                codes=code_scores,
                no_code=not abstained and not suggested,
                no_code_score=float(np.clip(no_code[row], 0.0, 1.0)),
                no_code_evidence=nearest.without(None, suggester.n_evidence),
                abstained=abstained,
                confidence=float(np.clip(decisions.confidence[row], 0.0, 1.0)),
                method=suggester.method,
                model_id=model_id,
                codebook_version=codebook.version,
            )
        )
    return suggestions


class _Nearest:
    """One unit's nearest exemplars, nearest first, as evidence made on demand."""

    def __init__(self, exemplars: Exemplars, neighbours: Neighbours, row: int) -> None:
        self.exemplars = exemplars
        found = zip(
            neighbours.similarities[row].tolist(), neighbours.positions[row].tolist(), strict=True
        )
        self.found = [(similarity, position) for similarity, position in found if position >= 0]
        self._made: dict[int, Evidence] = {}

    def with_code(self, code_id: str, limit: int) -> list[Evidence]:
        codes = self.exemplars.codes
        chosen = [item for item in self.found if code_id in codes[item[1]]]
        return [self._evidence(*item) for item in chosen[:limit]]

    def without(self, code_id: str | None, limit: int) -> list[Evidence]:
        """Exemplars without this code (``None``: without any code)."""
        codes = self.exemplars.codes
        chosen = [
            item
            for item in self.found
            if (not codes[item[1]] if code_id is None else code_id not in codes[item[1]])
        ]
        return [self._evidence(*item) for item in chosen[:limit]]

    def _evidence(self, similarity: float, position: int) -> Evidence:
        made = self._made.get(position)
        if made is None:
            made = Evidence(
                exemplar_id=int(self.exemplars.ids[position]),
                text=self.exemplars.texts[position],
                codes=sorted(self.exemplars.codes[position]),
                similarity=round(similarity, 6),
            )
            self._made[position] = made
        return made


def _code_score(
    *,
    code_id: str,
    name: str,
    score: float,
    threshold: float,
    suggested: bool,
    nearest: _Nearest,
    limit: int,
) -> CodeScore:
    return CodeScore(
        code=code_id,
        name=name,
        score=min(max(score, 0.0), 1.0),
        threshold=threshold,
        suggested=suggested,
        supporting=nearest.with_code(code_id, limit),
        opposing=nearest.without(code_id, limit),
    )
