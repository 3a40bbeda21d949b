"""Linear head: logistic regression on the embeddings.

Codes are modelled one-vs-rest (presence vs absence), so the head is multi-label by
construction. Where a codebook category is exclusive and every training unit carries exactly one
of its codes (AnnoMI's and SwDA's schemes), those codes share one multinomial model instead: one
fit instead of one per code, and probabilities that sum to one across the category. A code every
exemplar carries, or none does, gets a constant score instead of a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from models.encoder import Embeddings
from models.exemplars import Exemplars
from models.suggesters.base import BaseSuggester, CommonParams, Scores


@dataclass(frozen=True)
class _Multinomial:
    columns: NDArray[np.intp]  # codes of the category seen in training, in model class order
    weights: NDArray[np.float64]  # (dim, classes)
    biases: NDArray[np.float64]  # (classes,)


@dataclass(frozen=True)
class _LinearState:
    weights: NDArray[np.float64]  # (dim, codes) for one-vs-rest columns
    biases: NDArray[np.float64]  # (codes,)
    constant: NDArray[np.float64]  # (codes,), NaN where a one-vs-rest model was fitted
    multinomials: tuple[_Multinomial, ...]


class LinearSuggester(BaseSuggester):
    """Logistic regression per code (or per single-label category); ``c`` is the inverse
    regularisation strength."""

    method = "linear"

    def __init__(
        self, *, c: float = 4.0, max_iter: int = 500, **common: Unpack[CommonParams]
    ) -> None:
        super().__init__(**common)
        self.c = c
        self.max_iter = max_iter

    def _fit_state(
        self, exemplars: Exemplars, labels: NDArray[np.bool_], exclusive: list[NDArray[np.intp]]
    ) -> _LinearState:
        dim, codes = exemplars.dim, labels.shape[1]
        single_label = [
            columns for columns in exclusive if (labels[:, columns].sum(axis=1) == 1).all()
        ]
        multinomials = tuple(
            model
            for columns in single_label
            if (model := self._fit_multinomial(exemplars.vectors, labels, columns)) is not None
        )
        covered = {int(j) for model in multinomials for j in model.columns}
        weights, biases = np.zeros((dim, codes)), np.zeros(codes)
        constant = np.full(codes, np.nan)
        for column in range(codes):
            target = labels[:, column]
            if column in covered:
                constant[column] = 0.0  # overwritten by the category's model when scoring
            elif target.all() or not target.any():
                constant[column] = float(target.all())
            else:
                model = self._logistic().fit(exemplars.vectors, target)
                weights[:, column], biases[column] = model.coef_[0], model.intercept_[0]
        return _LinearState(weights, biases, constant, multinomials)

    def _fit_multinomial(
        self, vectors: Embeddings, labels: NDArray[np.bool_], columns: NDArray[np.intp]
    ) -> _Multinomial | None:
        target = columns[np.argmax(labels[:, columns], axis=1)]
        present = np.unique(target)
        if len(present) < 2:
            return None
        model = self._logistic().fit(vectors, target)
        classes = np.asarray(model.classes_, dtype=np.intp)
        if len(classes) == 2:  # sklearn keeps one weight vector for two classes
            coef = np.hstack([-model.coef_.T, model.coef_.T]) / 2.0
            intercept = np.array([-model.intercept_[0], model.intercept_[0]]) / 2.0
        else:
            coef, intercept = model.coef_.T, model.intercept_
        return _Multinomial(classes, np.asarray(coef), np.asarray(intercept))

    def _logistic(self) -> LogisticRegression:
        return LogisticRegression(C=self.c, max_iter=self.max_iter)

    def _score_with(self, state: _LinearState, vectors: Embeddings) -> Scores:
        matrix = vectors.astype(np.float64)
        logits = matrix @ state.weights + state.biases
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -50.0, 50.0)))
        scores = np.where(np.isnan(state.constant), scores, state.constant)
        for model in state.multinomials:
            class_logits = matrix @ model.weights + model.biases
            class_logits -= class_logits.max(axis=1, keepdims=True)
            probabilities = np.exp(class_logits)
            scores[:, model.columns] = probabilities / probabilities.sum(axis=1, keepdims=True)
        return scores
