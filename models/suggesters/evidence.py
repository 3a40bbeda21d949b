"""Turning decisions and nearest exemplars into the suggestions a coder reads."""

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
        nearest = _nearest(exemplars, neighbours, row)
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
                no_code_evidence=[e for e in nearest if not e.codes][: suggester.n_evidence],
                abstained=abstained,
                confidence=float(np.clip(decisions.confidence[row], 0.0, 1.0)),
                method=suggester.method,
                model_id=model_id,
                codebook_version=codebook.version,
            )
        )
    return suggestions


def _nearest(exemplars: Exemplars, neighbours: Neighbours, row: int) -> list[Evidence]:
    return [
        Evidence(
            exemplar_id=int(exemplars.ids[position]),
            text=exemplars.texts[position],
            codes=sorted(exemplars.codes[position]),
            similarity=round(float(similarity), 6),
        )
        for similarity, position in zip(
            neighbours.similarities[row], neighbours.positions[row], strict=True
        )
        if position >= 0
    ]


def _code_score(
    *,
    code_id: str,
    name: str,
    score: float,
    threshold: float,
    suggested: bool,
    nearest: list[Evidence],
    limit: int,
) -> CodeScore:
    return CodeScore(
        code=code_id,
        name=name,
        score=min(max(score, 0.0), 1.0),
        threshold=threshold,
        suggested=suggested,
        supporting=[e for e in nearest if code_id in e.codes][:limit],
        opposing=[e for e in nearest if code_id not in e.codes][:limit],
    )
