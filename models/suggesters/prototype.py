"""Prototype (centroid) suggester: each code is the mean of the exemplars that carry it.

It needs no human-coded data at all: fitted on :func:`models.exemplars.codebook_exemplars`,
a code's prototype is the centroid of its definition and example sentences (the cold start, e.g.
the shipped interview codebook on day one). A code's score is the cosine similarity between the
unit and the prototype, clipped to [0, 1]; thresholds are calibrated as for every suggester.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings, l2_normalise
from models.exemplars import Exemplars
from models.suggesters.base import BaseSuggester, Scores


@dataclass(frozen=True)
class _PrototypeState:
    prototypes: NDArray[np.float32]  # (codes, dim), zero rows for codes without exemplars
    has_prototype: NDArray[np.bool_]


class PrototypeSuggester(BaseSuggester):
    """Cosine similarity to each code's centroid."""

    method = "prototype"

    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: object = None,  # nothing iterative to start from
    ) -> _PrototypeState:
        counts = labels.sum(axis=0)
        sums = labels.T.astype(np.float32) @ exemplars.vectors
        means = sums / np.maximum(counts, 1)[:, None]
        return _PrototypeState(prototypes=l2_normalise(means), has_prototype=counts > 0)

    def _score_with(self, state: _PrototypeState, vectors: Embeddings) -> Scores:
        similarity = vectors @ state.prototypes.T
        return np.where(state.has_prototype, np.clip(similarity, 0.0, 1.0), 0.0).astype(np.float64)
