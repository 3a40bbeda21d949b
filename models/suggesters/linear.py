"""Linear head: logistic regression on the embeddings.

Codes are modelled one-vs-rest (presence vs absence), so the head is multi-label by
construction. Where a codebook category is exclusive (AnnoMI's and SwDA's schemes), its codes
share one multinomial model instead: one fit instead of one per code, and probabilities that sum
to one across the category. Where some training units carry none of the category's codes,
"no code" is one more class of that model, learned like any code, and the head decides the
category by its most likely class, a code or no code (``learns_no_code``). A code every
exemplar carries, or none does, gets a constant score instead of a model.

``solver="joint"`` (the default) fits all those models in one L-BFGS run
(:mod:`models.suggesters.linear_joint`), warm-started from the previous state where there is
one; ``"per-code"`` is the scikit-learn fit per model it replaced, kept for comparison.
"""

from __future__ import annotations

from typing import Literal, Unpack

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from models.encoder import Embeddings
from models.exemplars import Exemplars
from models.suggesters.base import BaseSuggester, CommonParams, Scores
from models.suggesters.linear_joint import fit_joint
from models.suggesters.linear_state import (
    Category,
    LinearState,
    Multinomial,
    linear_scores,
    multinomial_categories,
)

Solver = Literal["joint", "per-code"]
_NO_CODE_CLASS = -1  # the target of an exemplar with no code of the category (no column's)


class LinearSuggester(BaseSuggester):
    """Logistic regression per code (or per exclusive category, "no code" one of its classes);
    ``c`` is the inverse regularisation strength, ``tol`` the largest gradient component left
    at convergence."""

    method = "linear"
    learns_no_code = True

    def __init__(
        self,
        *,
        c: float = 4.0,
        max_iter: int = 500,
        tol: float = 1e-4,
        solver: Solver = "joint",
        **common: Unpack[CommonParams],
    ) -> None:
        super().__init__(**common)
        self.c = c
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _fit_state(
        self,
        exemplars: Exemplars,
        labels: NDArray[np.bool_],
        exclusive: list[NDArray[np.intp]],
        warm: object = None,
    ) -> LinearState:
        if self.solver == "joint":
            return fit_joint(
                exemplars.vectors,
                labels,
                exclusive,
                c=self.c,
                max_iter=self.max_iter,
                tol=self.tol,
                warm=warm,
            )
        if self.solver != "per-code":
            raise ValueError(f"solver must be 'joint' or 'per-code', got {self.solver!r}")
        return self._fit_per_code(exemplars, labels, exclusive)

    def _fit_per_code(
        self, exemplars: Exemplars, labels: NDArray[np.bool_], exclusive: list[NDArray[np.intp]]
    ) -> LinearState:
        dim, codes = exemplars.dim, labels.shape[1]
        multinomials = tuple(
            self._fit_multinomial(exemplars.vectors, labels, category)
            for category in multinomial_categories(labels, exclusive)
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
        return LinearState(weights, biases, constant, multinomials)

    def _fit_multinomial(
        self, vectors: Embeddings, labels: NDArray[np.bool_], category: Category
    ) -> Multinomial:
        columns = category.columns
        block = labels[:, columns]
        target = np.where(block.any(axis=1), columns[np.argmax(block, axis=1)], _NO_CODE_CLASS)
        model = self._logistic().fit(vectors, target)
        classes = np.asarray(model.classes_, dtype=np.intp)
        if len(classes) == 2:  # sklearn keeps one weight vector for two classes
            coef = np.hstack([-model.coef_.T, model.coef_.T]) / 2.0
            intercept = np.array([-model.intercept_[0], model.intercept_[0]]) / 2.0
        else:
            coef, intercept = model.coef_.T, model.intercept_
        # "no code" sorts first among sklearn's classes; the state keeps it last
        order = np.argsort(classes == _NO_CODE_CLASS, kind="stable")
        return Multinomial(
            classes[order][: len(columns)],
            np.asarray(coef)[:, order],
            np.asarray(intercept)[order],
            none=category.none,
        )

    def _logistic(self) -> LogisticRegression:
        return LogisticRegression(C=self.c, max_iter=self.max_iter, tol=self.tol)

    def _score_with(self, state: LinearState, vectors: Embeddings) -> Scores:
        return linear_scores(state, vectors)
