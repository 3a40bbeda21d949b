"""Prototype (centroid) suggester: each code is the mean of the exemplars that carry it.

It needs no human-coded data at all: fitted on :func:`models.exemplars.codebook_exemplars`,
a code's prototype is the centroid of its definition and example sentences (the cold start, e.g.
the shipped interview codebook on day one). A code's score is the cosine similarity between the
unit and the prototype, clipped to [0, 1]; thresholds are calibrated as for every suggester.
The cold start proper, which can also say "no code", is :mod:`models.cold_start`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings, l2_normalise
from models.exemplars import Exemplars
from models.suggesters.base import BaseSuggester, Scores


@dataclass(frozen=True)
class Prototypes:
    """Each code's unit-length centroid; zero rows for codes without exemplars."""

    prototypes: NDArray[np.float32]  # (codes, dim)
    has_prototype: NDArray[np.bool_]

    def cosine(self, vectors: Embeddings) -> NDArray[np.float32]:
        """(units, codes) cosine similarity of unit-length vectors to each prototype."""
        similarity: NDArray[np.float32] = vectors @ self.prototypes.T
        return similarity


def fit_prototypes(vectors: Embeddings, labels: NDArray[np.bool_]) -> Prototypes:
    """The centroid of the exemplars carrying each code (``labels``: exemplars x codes)."""
    counts = labels.sum(axis=0)
    sums = labels.T.astype(np.float32) @ vectors
    means = sums / np.maximum(counts, 1)[:, None]
    return Prototypes(prototypes=l2_normalise(means), has_prototype=counts > 0)


class PrototypeSuggester(BaseSuggester):
    """Cosine similarity to each code's centroid."""

    method = "prototype"

    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: object = None,  # nothing iterative to start from
    ) -> Prototypes:
        return fit_prototypes(exemplars.vectors, labels)

    def _score_with(self, state: Prototypes, vectors: Embeddings) -> Scores:
        similarity = state.cosine(vectors)
        return np.where(state.has_prototype, np.clip(similarity, 0.0, 1.0), 0.0).astype(np.float64)
