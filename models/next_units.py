"""Which uncoded units to code next: those whose coding would teach the coder most.

Active learning by *uncertainty* and *diversity* together (the "diverse mini-batch" rule of
Zhdanov 2019): the ``pool_factor x n`` units the coder is least sure of (at most a quarter of
the candidates, at least ``n``) are clustered into
``n`` groups by k-means weighted by that uncertainty, and the unit nearest each centre is
picked, so twenty picks are twenty different kinds of doubt, not one sentence twenty times.

Uncertainty comes from the coder's calibrated decisions: one minus its confidence, or one
minus the margin between the two best codes of an exclusive category where that is smaller
(the coder torn between two codes). A coder that has learnt little cannot rank by its own
doubt (the cold start, or fewer than :func:`warm_after` coded units): then diversity alone
decides, by k-means over the uncoded units weighted by how far each is from anything coded,
each pick the unit nearest a centre: sentences that stand for many others and are unlike
what has been coded.

Everything is deterministic given ``seed`` (k-means' start, the sample of a very large pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans

from models.encoder import Embeddings
from models.methods import DEFAULT_NEXT
from models.suggesters.base import Decisions

Reason = Literal["uncertain", "unlike coded"]
POOL_FACTOR = 10
POOL_SHARE = 0.25
"""The uncertain pool is also at most this share of the candidates (but at least ``n``), so
that a small project's picks are still among its most uncertain units."""
COLD_POOL = 5_000
"""At most this many uncoded units (drawn by the seed) are clustered in the cold start."""
WARM_PER_CODE = 2
WARM_MIN = 20
_EPSILON = 1e-6


def warm_after(code_count: int) -> int:
    """How many coded units a coder needs before its own doubt ranks the units: two per
    code, at least twenty. Below that, its scores say more about which codes happen to have
    an example than about the unit."""
    return max(WARM_MIN, WARM_PER_CODE * code_count)


@dataclass(frozen=True)
class RankedUnit:
    """One unit to code next, with why it was chosen.

    ``position``: its row in the candidates ranked. ``score``: what it was ranked by, in
    [0, 1] (the uncertainty, or in the cold start the distance from anything coded).
    ``codes``: the codes the coder is torn between, best first (empty in the cold start).
    ``novelty``: cosine distance to the nearest coded unit (1 when nothing is coded).
    ``represents``: how many of the candidates clustered its group stands for.
    """

    position: int
    score: float
    reason: Reason
    codes: tuple[str, ...]
    uncertainty: float | None
    novelty: float
    represents: int

    @property
    def why(self) -> str:
        if self.reason == "unlike coded":
            return f"unlike anything coded (stands for {self.represents} uncoded units)"
        if len(self.codes) >= 2:
            return f"uncertain between {self.codes[0]} and {self.codes[1]}"
        if self.codes:
            return f"uncertain whether {self.codes[0]} applies"
        return "uncertain"


def rank_units(
    vectors: Embeddings,
    coded_vectors: Embeddings,
    decisions: Decisions | None,
    exclusive_columns: list[NDArray[np.intp]],
    *,
    n: int = DEFAULT_NEXT,
    seed: int = 0,
    pool_factor: int = POOL_FACTOR,
) -> tuple[RankedUnit, ...]:
    """At most ``n`` of the candidates (``vectors``' rows), most informative first.

    ``decisions``: the coder's on the candidates, or None for diversity alone (the cold
    start); ``exclusive_columns``: the decision columns of each exclusive category.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if len(vectors) == 0:
        return ()
    # Identical sentences (many "Uh-huh.") are one candidate: coding one teaches what coding
    # all would, so two picks are never the same sentence; its copies count in its weight.
    _, first, inverse = np.unique(vectors, axis=0, return_index=True, return_inverse=True)
    copies = np.bincount(inverse.reshape(-1), minlength=len(first))
    novelty = _novelty(vectors, coded_vectors)
    if decisions is None:
        pool = _cold_pool(len(first), seed)
        weights = novelty[first[pool]]
        doubt = None
    else:
        doubt = uncertainty(decisions, exclusive_columns)
        distinct_doubt = doubt[first]
        # the most uncertain first, ties by position: the same input gives the same pool
        size = min(pool_factor * n, max(n, int(POOL_SHARE * len(first))))
        pool = np.lexsort((first, -distinct_doubt))[:size]
        weights = distinct_doubt[pool]
    rows = first[pool]
    picks, sizes = _representatives(vectors[rows], weights * copies[pool], copies[pool], n, seed)
    ranked = [
        _ranked(int(rows[pick]), size, novelty, doubt, decisions)
        for pick, size in zip(picks, sizes, strict=True)
    ]
    ranked.sort(key=lambda unit: (-unit.score, unit.position))
    return tuple(ranked)


def uncertainty(
    decisions: Decisions, exclusive_columns: list[NDArray[np.intp]]
) -> NDArray[np.float64]:
    """1 - the coder's confidence, or 1 - the margin between the two best codes of an
    exclusive category (their shares of its score) where that is larger."""
    doubt = 1.0 - np.asarray(decisions.confidence, dtype=np.float64)
    for columns in exclusive_columns:
        if len(columns) < 2:
            continue
        group = decisions.scores[:, columns]
        shares = group / np.maximum(group.sum(axis=1, keepdims=True), 1e-12)
        top_two = -np.sort(-shares, axis=1)[:, :2]
        doubt = np.maximum(doubt, 1.0 - (top_two[:, 0] - top_two[:, 1]))
    return np.clip(doubt, 0.0, 1.0)


def _novelty(vectors: Embeddings, coded_vectors: Embeddings) -> NDArray[np.float64]:
    """Cosine distance of each candidate to its nearest coded unit, in [0, 1] (vectors are
    unit-length)."""
    if len(coded_vectors) == 0:
        return np.ones(len(vectors))
    nearest = np.zeros(len(vectors))
    for start in range(0, len(vectors), 4_096):  # bounds the (candidates x coded) block
        block = vectors[start : start + 4_096] @ np.asarray(coded_vectors).T
        nearest[start : start + 4_096] = block.max(axis=1)
    # 1 - cosine, capped at 1: a unit orthogonal to all coded ones is as new as it gets
    return np.clip(1.0 - nearest, 0.0, 1.0)


def _cold_pool(count: int, seed: int) -> NDArray[np.intp]:
    """All the distinct candidates, or a sample of ``COLD_POOL`` of them drawn by the seed."""
    if count <= COLD_POOL:
        return np.arange(count, dtype=np.intp)
    chosen = np.random.default_rng(seed).choice(count, size=COLD_POOL, replace=False)
    return np.sort(chosen).astype(np.intp)


def _representatives(
    points: Embeddings,
    weights: NDArray[np.float64],
    copies: NDArray[np.int64],
    n: int,
    seed: int,
) -> tuple[list[int], list[int]]:
    """One point per weighted k-means cluster (the one nearest its centre) and how many
    units its cluster stands for; every point when there are no more than ``n``."""
    if len(points) <= n:
        return list(range(len(points))), [int(count) for count in copies]
    model = KMeans(n_clusters=n, n_init=1, random_state=seed)
    labels = model.fit_predict(points, sample_weight=np.maximum(weights, _EPSILON))
    distances = model.transform(points)
    picks, sizes = [], []
    for cluster in range(n):
        members = np.flatnonzero(labels == cluster)
        if len(members):  # the points are distinct, but k-means may still leave one empty
            picks.append(int(members[np.argmin(distances[members, cluster])]))
            sizes.append(int(copies[members].sum()))
    return picks, sizes


def _ranked(
    position: int,
    represents: int,
    novelty: NDArray[np.float64],
    doubt: NDArray[np.float64] | None,
    decisions: Decisions | None,
) -> RankedUnit:
    if doubt is None or decisions is None:
        score = float(novelty[position])
        return RankedUnit(position, score, "unlike coded", (), None, score, represents)
    scores = decisions.scores[position]
    best = np.argsort(-scores, kind="stable")[:2]
    codes = tuple(decisions.code_ids[j] for j in best if scores[j] > 0)
    value = float(doubt[position])
    return RankedUnit(
        position, value, "uncertain", codes, value, float(novelty[position]), represents
    )
