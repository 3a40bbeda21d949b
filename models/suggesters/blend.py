"""Blend: the linear head's probabilities averaged with the k-nearest-neighbour vote.

The two heads fail differently: logistic regression draws smooth boundaries over the whole
training set, the vote follows local clusters (a few near-identical exemplars). Their average,
with fixed weights set once for every dataset, is calibrated like any suggester (thresholds by
cross-validation inside the exemplars). The evidence shown is the vote's k neighbours: the
exemplars that drove the local half of each score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Unpack

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings
from models.exemplars import Exemplars
from models.suggesters.base import BaseSuggester, CommonParams, Scores
from models.suggesters.knn import KnnSuggester, vote_shares
from models.suggesters.linear import LinearSuggester
from models.suggesters.search import Neighbours


@dataclass(frozen=True)
class _BlendState:
    knn: Any  # the k-NN head's state
    linear: Any  # the linear head's state


class BlendSuggester(BaseSuggester):
    """``linear_weight`` x logistic probability + the rest x the k-NN vote share."""

    method = "blend"

    def __init__(
        self,
        *,
        k: int = 10,
        c: float = 4.0,
        linear_weight: float = 0.5,
        **common: Unpack[CommonParams],
    ) -> None:
        super().__init__(**common)
        self.k = k
        self.c = c
        self.linear_weight = linear_weight

    def _heads(self) -> tuple[KnnSuggester, LinearSuggester]:
        common: CommonParams = {"index_kind": self.index_kind, "random_state": self.random_state}
        return KnnSuggester(k=self.k, **common), LinearSuggester(c=self.c, **common)

    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: object = None,
    ) -> _BlendState:
        if not 0.0 <= self.linear_weight <= 1.0:
            raise ValueError(f"linear_weight must be within 0..1, got {self.linear_weight}")
        knn, linear = self._heads()
        return _BlendState(
            knn=knn._fit_state(exemplars, labels, exclusive),
            # the linear head warm-starts from its own half of a previous blend state
            linear=linear._fit_state(
                exemplars, labels, exclusive, warm.linear if isinstance(warm, _BlendState) else None
            ),
        )

    def _score_with(self, state: _BlendState, vectors: Embeddings) -> Scores:
        knn, linear = self._heads()
        weight = self.linear_weight
        knn_scores = knn._score_with(state.knn, vectors)
        return weight * linear._score_with(state.linear, vectors) + (1 - weight) * knn_scores

    # the batch's one search (``ExemplarSearch``) brings the vote's neighbours

    def _search_k(self) -> int:
        return max(self.k, super()._search_k())

    def _score_found(self, vectors: Embeddings, found: Neighbours) -> Scores:
        _, linear = self._heads()
        weight = self.linear_weight
        knn_scores = vote_shares(self.state_.knn.labels, found.first(self.k))[0]
        return weight * linear._score_with(self.state_.linear, vectors) + (1 - weight) * knn_scores

    def _evidence_found(self, found: Neighbours) -> Neighbours:
        """The k neighbours of the vote."""
        return found.first(self.k)
