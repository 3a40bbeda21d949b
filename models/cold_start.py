"""The cold start: suggest codes from the codebook alone, and say "no code" where none fits.

Fitted on :func:`models.exemplars.cold_start_exemplars`: the codebook's definitions and examples
(one code each) and the shipped background set (:mod:`codebook.background`: back-channels,
fillers, greetings, topic-free prompts, logistics), which carries no code. A plain prototype
scores "Go on." by its cosine to the nearest code's centroid, and since every codebook text
is about the topic, the calibrated thresholds never learn that such a sentence needs no code.

:class:`ColdStartSuggester` scores a code by how much closer the unit is to the code's
prototype than to the background: ``0.5 + (cos(unit, prototype) - background) / 2`` clipped
to [0, 1], where ``background`` is the mean cosine of the unit's ``background_k`` nearest
background sentences (the nearest ones, because the background is several kinds of talk, not
one centroid). 0.5 means "as close to the code as to small talk". The same amount is taken off
every code of a unit, so the ranking of codes is exactly the plain prototype's; only the
decisions change. Thresholds are calibrated as for every suggester, now with the background
sentences as negatives of every code. Background sentences carry no code, so they are shown
only as evidence for "no code" (or against a code), never for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self, Unpack

import numpy as np
from numpy.typing import NDArray

from codebook.model import Codebook
from models.encoder import Embeddings, Encoder
from models.exemplars import Exemplars, cold_start_exemplars
from models.suggesters.base import BaseSuggester, CommonParams, Scores
from models.suggesters.prototype import Prototypes, fit_prototypes

DEFAULT_BACKGROUND_K = 3


@dataclass(frozen=True)
class _ColdStartState:
    prototypes: Prototypes
    background: NDArray[np.float32]  # (background sentences, dim), unit-normalised


class ColdStartSuggester(BaseSuggester):
    """Prototype scores relative to the nearest background sentences (see the module).

    Fit it on :func:`cold_start_exemplars`; with no uncoded exemplar at all the background
    term is 0 and a code scores ``0.5 + cos / 2``.
    """

    method = "prototype"

    def __init__(
        self, *, background_k: int = DEFAULT_BACKGROUND_K, **params: Unpack[CommonParams]
    ) -> None:
        super().__init__(**params)
        self.background_k = background_k

    @classmethod
    def like(
        cls, suggester: BaseSuggester, background_k: int = DEFAULT_BACKGROUND_K
    ) -> ColdStartSuggester:
        """A new cold-start suggester with another suggester's common parameters."""
        params: CommonParams = {
            "top_n": suggester.top_n,
            "n_evidence": suggester.n_evidence,
            "calibration_folds": suggester.calibration_folds,
            "target": suggester.target,
            "abstain_below": suggester.abstain_below,
            "random_state": suggester.random_state,
            "index_kind": suggester.index_kind,
        }
        return cls(background_k=background_k, **params)

    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: object = None,  # nothing iterative to start from
    ) -> _ColdStartState:
        background = exemplars.vectors[~labels.any(axis=1)]
        return _ColdStartState(
            prototypes=fit_prototypes(exemplars.vectors, labels),
            background=np.asarray(background, dtype=np.float32),
        )

    def _score_with(self, state: _ColdStartState, vectors: Embeddings) -> Scores:
        similarity = state.prototypes.cosine(vectors)
        nearest = _nearest_background(vectors, state.background, self.background_k)
        relative = np.clip(0.5 + (similarity - nearest[:, None]) / 2.0, 0.0, 1.0)
        scores: Scores = np.where(state.prototypes.has_prototype, relative, 0.0)
        return scores.astype(np.float64)

    def fit_codebook(self, codebook: Codebook, encoder: Encoder) -> Self:
        """Fit on the codebook's texts and the background set (the cold start)."""
        return self.fit(cold_start_exemplars(codebook, encoder), codebook)


def _nearest_background(
    vectors: Embeddings, background: NDArray[np.float32], k: int
) -> NDArray[np.float64]:
    """Mean cosine of each unit's ``k`` nearest background sentences; 0 with no background."""
    if len(background) == 0:
        return np.zeros(len(vectors))
    similarity = vectors @ background.T
    k = min(max(k, 1), similarity.shape[1])
    nearest = np.partition(similarity, similarity.shape[1] - k, axis=1)[:, -k:]
    means: NDArray[np.float64] = nearest.mean(axis=1).astype(np.float64)
    return means


def fit_cold_start(
    codebook: Codebook,
    encoder: Encoder,
    *,
    background_k: int = DEFAULT_BACKGROUND_K,
    **params: Unpack[CommonParams],
) -> ColdStartSuggester:
    """A suggester fitted on the codebook alone, able to say "no code"; ``params`` are the
    common suggester parameters (``top_n``, ``abstain_below``...) and ``background_k``."""
    return ColdStartSuggester(background_k=background_k, **params).fit_codebook(codebook, encoder)
