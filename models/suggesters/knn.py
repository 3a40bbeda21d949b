"""k-nearest-neighbour vote: the default suggester.

Each of the k most similar exemplars votes for its codes with its cosine similarity as weight;
a code's score is the weighted share of neighbours carrying it. Uncoded exemplars vote too: for
"no code". The neighbours that voted are exactly the evidence shown, so evidence is what drove
the suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings
from models.exemplars import Exemplars
from models.index import ExemplarIndex
from models.suggesters.base import BaseSuggester, CommonParams, Scores
from models.suggesters.search import Neighbours


@dataclass(frozen=True)
class _KnnState:
    index: ExemplarIndex
    labels: NDArray[np.bool_]


class KnnSuggester(BaseSuggester):
    """Similarity-weighted vote of the k nearest coded exemplars."""

    method = "knn"

    def __init__(
        self,
        *,
        k: int = 10,
        **common: Unpack[CommonParams],
    ) -> None:
        super().__init__(**common)
        self.k = k

    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: object = None,  # nothing iterative to start from
    ) -> _KnnState:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        # Exact: this index serves whole folds in calibration (a batch search, faster exact)
        # and a head with no shared index; building an HNSW graph here took seconds a fit.
        index = ExemplarIndex(
            exemplars.dim, model_id=exemplars.model_id, codebook_version="", kind="exact"
        )
        index.add(np.arange(len(exemplars), dtype=np.int64), exemplars.vectors)
        return _KnnState(index=index, labels=labels)

    def _score_with(self, state: _KnnState, vectors: Embeddings) -> Scores:
        found = state.index.search(vectors, self.k)
        return vote_shares(state.labels, Neighbours(found.scores, found.ids))[0]

    # the batch's one search (``ExemplarSearch``) brings the voters: no search of our own

    def _search_k(self) -> int:
        return max(self.k, super()._search_k())

    def _score_found(self, vectors: Embeddings, found: Neighbours) -> Scores:
        return vote_shares(self.state_.labels, found.first(self.k))[0]

    def _no_code_found(self, scores: Scores, found: Neighbours) -> Scores:
        return vote_shares(self.state_.labels, found.first(self.k))[1]

    def _evidence_found(self, found: Neighbours) -> Neighbours:
        """The k voters themselves."""
        return found.first(self.k)


def vote_shares(labels: NDArray[np.bool_], found: Neighbours) -> tuple[Scores, NDArray[np.float64]]:
    """Each code's similarity-weighted share of the neighbours' votes, and "no code"'s."""
    present = found.positions >= 0
    # Clipped at a small positive weight so that dissimilar neighbours still count a little
    # and a unit whose neighbours are all unrelated does not divide by zero.
    weights = np.where(present, np.clip(found.similarities, 1e-3, None), 0.0).astype(np.float64)
    totals = np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    neighbour_labels = labels[np.where(present, found.positions, 0)] & present[:, :, None]
    scores = np.einsum("uk,ukc->uc", weights, neighbour_labels) / totals
    uncoded = ~neighbour_labels.any(axis=2) & present
    no_code = (weights * uncoded).sum(axis=1) / totals[:, 0]
    return scores, no_code
