"""Where a fitted head finds the exemplars nearest a unit: one index, searched once per batch.

A head either builds its own exact index over its exemplars (ids = positions), or is handed a
shared one: the project's persisted index, keyed by exemplar ids, which the service loads once
and keeps in step with the store, so no fit or update builds an index at all. Hits in a shared
index are mapped to positions in the head's exemplars; an exemplar added to the project after
the head was fitted is not one of them and is dropped (the head learns it at the next change).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings
from models.exemplars import Exemplars
from models.index import ExemplarIndex, RequestedKind

# Extra hits first asked of a shared index, for exemplars it has that the head was not
# fitted on (those added since the fit); search() asks again, deeper, when they are more.
_SLACK = 16


@dataclass(frozen=True)
class Neighbours:
    """Nearest exemplars per unit: cosine similarities and exemplar positions (-1 = none)."""

    similarities: NDArray[np.float32]
    positions: NDArray[np.int64]

    def first(self, k: int) -> Neighbours:
        """The ``k`` nearest of each unit."""
        return Neighbours(self.similarities[:, :k], self.positions[:, :k])


@dataclass(frozen=True)
class ExemplarSearch:
    """An index over a head's exemplars; ``sorted_ids``/``order`` map a shared index's exemplar
    ids to positions (None: the index's ids are the positions)."""

    index: ExemplarIndex
    count: int
    sorted_ids: NDArray[np.int64] | None = None
    order: NDArray[np.intp] | None = None

    @classmethod
    def own(
        cls, exemplars: Exemplars, codebook_version: str, kind: RequestedKind
    ) -> ExemplarSearch:
        """A new index over the exemplars' positions; exact unless HNSW is asked for by name:
        an exact build is a copy (0.07 s at 50,000), an HNSW graph took 6-12 s (bench_fit)."""
        index = ExemplarIndex(
            exemplars.dim,
            model_id=exemplars.model_id,
            codebook_version=codebook_version,
            kind="hnsw" if kind == "hnsw" else "exact",
        )
        index.add(np.arange(len(exemplars), dtype=np.int64), exemplars.vectors)
        return cls(index, len(exemplars))

    @classmethod
    def shared(cls, index: ExemplarIndex, exemplars: Exemplars) -> ExemplarSearch:
        """The project's own index, keyed by the exemplars' ids."""
        order = np.argsort(exemplars.ids, kind="stable")
        return cls(index, len(exemplars), exemplars.ids[order], order)

    def search(self, vectors: Embeddings, k: int) -> Neighbours:
        """The ``k`` nearest of each unit among the head's exemplars, best first."""
        if self.sorted_ids is None:
            found = self.index.search(vectors, k)
            return Neighbours(found.scores, found.ids)
        total = len(self.index)
        asked = min(k + max(total - self.count, 0) + _SLACK, max(total, 1))
        while True:
            found = self.index.search(vectors, asked)
            positions = self._positions(found.ids)
            # Exemplars removed since the fit free room for more unknown ones than counted:
            # ask again, twice as deep, until every unit has k or the index has no more.
            if asked >= total or ((positions >= 0).sum(axis=1) >= min(k, self.count)).all():
                return _compacted(found.scores, positions, k)
            asked = min(2 * asked, total)

    def _positions(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        assert self.sorted_ids is not None
        assert self.order is not None
        at = np.searchsorted(self.sorted_ids, ids)
        inside = at < len(self.sorted_ids)
        known = inside & (self.sorted_ids[np.where(inside, at, 0)] == ids) & (ids >= 0)
        return np.where(known, self.order[np.where(inside, at, 0)], -1).astype(np.int64)


def _compacted(scores: NDArray[np.float32], positions: NDArray[np.int64], k: int) -> Neighbours:
    """Each row's first ``k`` known hits, in order, padded with -1 / -inf."""
    known = positions >= 0
    rank = np.cumsum(known, axis=1) - 1
    keep = known & (rank < k)
    rows, columns = np.nonzero(keep)
    similarities = np.full((len(positions), k), -np.inf, dtype=np.float32)
    kept = np.full((len(positions), k), -1, dtype=np.int64)
    similarities[rows, rank[rows, columns]] = scores[rows, columns]
    kept[rows, rank[rows, columns]] = positions[rows, columns]
    return Neighbours(similarities, kept)
