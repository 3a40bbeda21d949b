"""What every suggester shares: the estimator contract, decisions, abstention and evidence.

A suggester follows scikit-learn's contract: ``__init__`` stores parameters only; ``fit``
validates the exemplars, calibrates one threshold per code by cross-validation inside them,
learns its scorer and returns ``self``; learned state ends in ``_``. Subclasses supply two pure
functions, ``_fit_state`` and ``_score_with``, so calibration can refit them on inner folds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypedDict

import numpy as np
from numpy.typing import NDArray

from codebook.errors import CodedDataError, Problem
from codebook.model import Codebook
from models.calibration import (
    CalibrationTarget,
    calibrate_thresholds,
    carried_thresholds,
    no_code_margin,
    out_of_fold_scores,
)
from models.encoder import Embeddings
from models.errors import NotFittedError
from models.exemplars import Exemplars
from models.index import ExemplarIndex, RequestedKind
from models.suggesters.compact import CompactSuggestions, build_compact
from models.suggesters.evidence import build_suggestions
from models.suggesters.groups import (
    Group,
    argmax_columns,
    class_weights,
    decide_no_code,
    exclusive_groups,
    left_for_no_code,
    no_code_thresholds,
)
from models.suggesters.search import ExemplarSearch, Neighbours
from models.suggestions import UnitSuggestion

Scores = NDArray[np.float64]
IndexKind = RequestedKind  # what a head may ask of the indexes it builds


@dataclass(frozen=True)
class Decisions:
    """Decided codes, scores and confidence for a batch of units (rows) over codes (columns)."""

    code_ids: tuple[str, ...]
    scores: Scores
    decided: NDArray[np.bool_]
    confidence: NDArray[np.float64]
    abstained: NDArray[np.bool_]


class CommonParams(TypedDict, total=False):
    """Parameters every suggester takes (see :class:`BaseSuggester`)."""

    top_n: int
    n_evidence: int
    calibration_folds: int
    target: CalibrationTarget
    abstain_below: float
    random_state: int
    index_kind: IndexKind


class BaseSuggester(ABC):
    """Fit on coded exemplars, then suggest codes for new units' embeddings.

    ``top_n`` codes are ranked per unit, each with ``n_evidence`` exemplars for and against;
    thresholds are calibrated toward ``target`` on ``calibration_folds`` inner folds, and so is
    "no code": a threshold on its class where the head learned one (``no_code_thresholds_``),
    else by how much a unit's best code must pass its threshold for the unit to be coded
    (``no_code_margin_``, :mod:`models.suggesters.groups`); a unit
    whose confidence is below ``abstain_below`` is left to a human. ``index_kind`` is passed
    to the exemplar indexes: "auto" switches to HNSW past a measured size, which pays off for
    one sentence at a time; batch scoring (cross-validation) is faster and reproducible exact.
    """

    method: ClassVar[str]
    learns_no_code: ClassVar[bool] = False
    """Whether the head's scores of an exclusive category and "no code" sum to one, so that
    "no code" is a class it learned and decides like any code."""

    def __init__(
        self,
        *,
        top_n: int = 5,
        n_evidence: int = 3,
        calibration_folds: int = 3,
        target: CalibrationTarget = "kappa",
        abstain_below: float = 0.0,
        random_state: int = 0,
        index_kind: IndexKind = "auto",
    ) -> None:
        self.top_n = top_n
        self.n_evidence = n_evidence
        self.calibration_folds = calibration_folds
        self.target = target
        self.abstain_below = abstain_below
        self.random_state = random_state
        self.index_kind = index_kind

    # -- the two functions a suggester defines ------------------------------------------------

    @abstractmethod
    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: Any = None,
    ) -> Any:
        """Learn whatever scoring needs from these exemplars (pure: no attribute set).

        ``exclusive`` holds the label columns of each exclusive category. ``warm`` is a state
        this suggester made before (on the full data, or before a small change), which an
        iterative solver may start from; a head without one ignores it."""

    @abstractmethod
    def _score_with(self, state: Any, vectors: Embeddings) -> Scores:
        """(units, codes) scores in [0, 1] from a state made by ``_fit_state``."""

    # -- estimator contract -------------------------------------------------------------------

    def fit(
        self, exemplars: Exemplars, codebook: Codebook, *, index: ExemplarIndex | None = None
    ) -> Self:
        """Learn from coded exemplars; thresholds come from cross-validation inside them.

        ``index``: a shared index holding these exemplars' vectors under their ids (the
        project's), searched instead of building one; without it the head builds its own."""
        _check_exemplars(exemplars, codebook)
        code_ids = codebook.codable_ids
        labels = exemplars.label_matrix(code_ids)
        groups = exclusive_groups(codebook, code_ids, labels, self.learns_no_code)
        exclusive = [columns for columns, _ in groups]
        # The full fit first: the inner folds start from it, which costs an iterative solver
        # a few iterations each instead of a whole fit.
        state = self._fit_state(exemplars, labels, exclusive)

        def fit_and_score(train: Exemplars, vectors: Embeddings) -> Scores:
            fold = self._fit_state(train, train.label_matrix(code_ids), exclusive, warm=state)
            return self._score_with(fold, vectors)

        oof = None
        by_best_class = argmax_columns(groups, len(code_ids))
        # Inner folds: thresholds, "no code" and the weights of categories decided by their
        # best code are all chosen on out-of-fold scores.
        oof = out_of_fold_scores(
            fit_and_score, exemplars, len(code_ids), self.calibration_folds, self.random_state
        )
        self.thresholds_ = np.where(
            by_best_class, 0.0, calibrate_thresholds(oof, labels, self.target)
        )
        self.no_code_thresholds_ = no_code_thresholds(groups, oof, labels)
        self.class_weights_ = class_weights(groups, oof, labels)
        by_threshold = ~by_best_class
        self.no_code_margin_ = (
            0.0
            if oof is None
            else no_code_margin(
                oof[:, by_threshold], labels[:, by_threshold], self.thresholds_[by_threshold]
            )
        )
        self.calibrated_count_ = len(exemplars)
        self.codebook_ = codebook
        self.code_ids_ = code_ids
        self._learned(exemplars, labels, groups, state, index)
        return self

    def update(self, exemplars: Exemplars, *, index: ExemplarIndex | None = None) -> Self:
        """Learn from a changed set of exemplars (added, removed, recoded) without
        recalibrating: the scorer is refitted, warm-started from the current one, and the
        calibrated thresholds are kept, except for a code that gained its first exemplar or
        lost its last one. ``calibrated_count_`` says how many exemplars the thresholds were
        calibrated on, so the caller can tell when a full ``fit`` is due."""
        self._check_fitted()
        _check_exemplars(exemplars, self.codebook_)
        labels = exemplars.label_matrix(self.code_ids_)
        groups = exclusive_groups(self.codebook_, self.code_ids_, labels, self.learns_no_code)
        exclusive = [columns for columns, _ in groups]
        state = self._fit_state(exemplars, labels, exclusive, warm=self.state_)
        by_best_class = argmax_columns(groups, len(self.code_ids_))
        fresh = np.where(by_best_class, 0.0, calibrate_thresholds(None, labels, self.target))
        # A code that joined or left a category decided by its best class needs the fresh value too.
        moved = by_best_class != argmax_columns(self.groups_, len(self.code_ids_))
        self.thresholds_ = np.where(moved, fresh, carried_thresholds(self.thresholds_, fresh))
        # A category's "no code" threshold is kept while it stays decided the same way.
        same_rule = [rule == old for (_, rule), (_, old) in zip(groups, self.groups_, strict=True)]
        self.no_code_thresholds_ = np.where(same_rule, self.no_code_thresholds_, np.nan)
        self.class_weights_ = [
            kept if same else np.ones(len(columns))
            for kept, same, (columns, _) in zip(self.class_weights_, same_rule, groups, strict=True)
        ]
        self._learned(exemplars, labels, groups, state, index)
        return self

    def _learned(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        groups: list[Group],
        state: Any,
        index: ExemplarIndex | None,
    ) -> None:
        self.state_ = state
        self.exemplars_ = exemplars
        self.groups_ = groups
        # No unit gets more codes than any training unit had: in the cold start every
        # codebook example carries one code, so a sentence gets at most one.
        self.max_codes_ = int(labels.sum(axis=1).max()) if len(labels) else 0
        self.search_ = (
            ExemplarSearch.own(exemplars, self.codebook_.version, self.index_kind)
            if index is None
            else ExemplarSearch.shared(index, exemplars)
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "state_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call "
                "fit(exemplars, codebook) before suggest() or decide()"
            )

    # -- decisions ----------------------------------------------------------------------------

    def scores(self, vectors: Embeddings) -> Scores:
        self._check_fitted()
        return self._score_with(self.state_, _as_matrix(vectors, self.exemplars_.dim))

    def decide(self, vectors: Embeddings) -> Decisions:
        """Scores, decided codes (exclusive groups respected), confidence and abstention."""
        return self._decisions(self.scores(vectors))

    def _decisions(self, scores: Scores) -> Decisions:
        decided = scores >= self.thresholds_
        certainty = _threshold_certainty(scores, self.thresholds_)
        calibrated = zip(self.groups_, self.no_code_thresholds_, self.class_weights_, strict=True)
        for (columns, rule), no_code_at, weights in calibrated:
            group_scores = scores[:, columns]
            best = np.argmax(group_scores * weights, axis=1)
            rows = np.arange(len(scores))
            keep = np.zeros_like(group_scores, dtype=bool)
            if rule == "threshold":
                keep[rows, best] = decided[rows, columns[best]]
            elif rule == "best-or-none":
                left = left_for_no_code(group_scores)
                classes = np.hstack([group_scores, left[:, None]])
                most_likely = np.argmax(classes, axis=1) < len(columns)
                keep[rows, best] = most_likely if np.isnan(no_code_at) else left < no_code_at
                certainty[:, columns] = _top_share(classes)[:, None]
            else:
                keep[rows, best] = True
                certainty[:, columns] = _top_share(group_scores)[:, None]
            decided[:, columns] = keep
        by_threshold = ~argmax_columns(self.groups_, len(self.code_ids_))
        decided = decide_no_code(
            decided, scores, self.thresholds_, by_threshold, self.no_code_margin_
        )
        decided = _keep_best(decided, scores, self.max_codes_)
        confidence = certainty.min(axis=1) if certainty.shape[1] else np.ones(len(scores))
        return Decisions(
            code_ids=self.code_ids_,
            scores=scores,
            decided=decided,
            confidence=confidence,
            abstained=confidence < self.abstain_below,
        )

    # -- one search per batch: the neighbours feed the scores (k-NN), "no code" and evidence --

    def _search_k(self) -> int:
        """How many neighbours one search of a batch brings back."""
        return max(20, 4 * self.n_evidence)

    def _score_found(self, vectors: Embeddings, found: Neighbours) -> Scores:
        """The scores, given the batch's neighbours (a head that votes uses them)."""
        return self._score_with(self.state_, vectors)

    def _no_code_found(self, scores: Scores, found: Neighbours) -> Scores:
        """How strongly "no code" is indicated: 1 minus the best code's score by default, or
        the learned "no code" class's probability where that is smaller."""
        best = scores.max(axis=1) if scores.shape[1] else np.zeros(len(scores))
        for columns, rule in self.groups_:
            if rule == "best-or-none":
                best = np.maximum(best, 1.0 - left_for_no_code(scores[:, columns]))
        return np.clip(1.0 - best, 0.0, 1.0)

    def _evidence_found(self, found: Neighbours) -> Neighbours:
        """The neighbours shown as evidence: all the search brought back by default."""
        return found

    def neighbours(self, vectors: Embeddings) -> Neighbours:
        """The exemplars shown as evidence for these units."""
        self._check_fitted()
        matrix = _as_matrix(vectors, self.exemplars_.dim)
        return self._evidence_found(self.search_.search(matrix, self._search_k()))

    def suggest(self, vectors: Embeddings, texts: list[str], model_id: str) -> list[UnitSuggestion]:
        """Ranked codes with evidence, the decision and abstention for each unit; the
        exemplars are searched once for the whole batch."""
        self._check_fitted()
        matrix = _as_matrix(vectors, self.exemplars_.dim)
        if len(texts) != len(matrix):
            raise ValueError(f"got {len(texts)} texts for {len(matrix)} vectors")
        found = self.search_.search(matrix, self._search_k())
        decisions = self._decisions(self._score_found(matrix, found))
        return build_suggestions(
            suggester=self,
            decisions=decisions,
            no_code=self._no_code_found(decisions.scores, found),
            neighbours=self._evidence_found(found),
            texts=texts,
            model_id=model_id,
        )

    def suggest_compact(self, vectors: Embeddings) -> CompactSuggestions:
        """What :meth:`suggest` decides, as columns (codes, scores, evidence ids), for coding
        many units at once; the same search, decisions and ranking."""
        self._check_fitted()
        matrix = _as_matrix(vectors, self.exemplars_.dim)
        found = self.search_.search(matrix, self._search_k())
        decisions = self._decisions(self._score_found(matrix, found))
        return build_compact(
            suggester=self, decisions=decisions, neighbours=self._evidence_found(found)
        )


def _as_matrix(vectors: Embeddings, dim: int) -> Embeddings:
    matrix = np.asarray(vectors, dtype=np.float32)
    matrix = matrix.reshape(1, -1) if matrix.ndim == 1 else matrix
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {matrix.shape}")
    return matrix


def _check_exemplars(exemplars: Exemplars, codebook: Codebook) -> None:
    if len(exemplars) == 0:
        raise CodedDataError(
            "there are no coded exemplars to learn from; code some units first, or use the "
            "prototype method with the codebook's definitions and examples (cold start)"
        )
    problems = [
        Problem(f"exemplar {exemplars.ids[row]}", problem)
        for row, codes in enumerate(exemplars.codes)
        for problem in codebook.code_set_problems(codes)
    ]
    if problems:
        raise CodedDataError(
            f"{len(problems)} exemplar(s) do not fit codebook {codebook.name!r}; fix the codes "
            "or the codebook",
            problems,
        )


def _keep_best(decided: NDArray[np.bool_], scores: Scores, limit: int) -> NDArray[np.bool_]:
    """At most ``limit`` decided codes per unit, the highest-scoring ones."""
    crowded = np.flatnonzero(decided.sum(axis=1) > limit)
    for row in crowded:
        ranked = np.argsort(-np.where(decided[row], scores[row], -np.inf), kind="stable")
        decided[row, ranked[limit:]] = False
    return decided


def _threshold_certainty(scores: Scores, thresholds: NDArray[np.float64]) -> Scores:
    """0 at a code's threshold, 1 at the far end of [0, 1] on either side."""
    above = (scores - thresholds) / np.maximum(1.0 - thresholds, 1e-9)
    below = (thresholds - scores) / np.maximum(thresholds, 1e-9)
    return np.clip(np.where(scores >= thresholds, above, below), 0.0, 1.0)


def _top_share(group_scores: Scores) -> NDArray[np.float64]:
    """How far the best code's share of the group's score is above an even split (0..1)."""
    members = group_scores.shape[1]
    if members < 2:
        return np.ones(len(group_scores))
    totals = np.maximum(group_scores.sum(axis=1), 1e-12)
    share = group_scores.max(axis=1) / totals
    above_even: NDArray[np.float64] = (share - 1.0 / members) / (1.0 - 1.0 / members)
    return np.clip(above_even, 0.0, 1.0)
