"""What the linear head learns, whichever solver fitted it, and how it scores.

Kept apart from the solvers so that the scikit-learn path (``solver="per-code"``) and the
joint one (:mod:`models.suggesters.linear_joint`) produce, and warm-start from, the same state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings

Scores = NDArray[np.float64]


@dataclass(frozen=True)
class Multinomial:
    columns: NDArray[np.intp]  # codes of the category seen in training, in model class order
    weights: NDArray[np.float64]  # (dim, classes)
    biases: NDArray[np.float64]  # (classes,)
    none: bool = False  # one more class, the last: "no code of this category"


@dataclass(frozen=True)
class Category:
    """An exclusive category one multinomial models: its codes seen in training, and whether
    "no code" is one more class (some exemplar carries none of its codes)."""

    columns: NDArray[np.intp]  # sorted code columns
    none: bool

    @property
    def classes(self) -> int:
        return len(self.columns) + int(self.none)


@dataclass(frozen=True)
class LinearState:
    weights: NDArray[np.float64]  # (dim, codes) for one-vs-rest columns
    biases: NDArray[np.float64]  # (codes,)
    constant: NDArray[np.float64]  # (codes,), NaN where a one-vs-rest model was fitted
    multinomials: tuple[Multinomial, ...]


def multinomial_categories(
    labels: NDArray[np.bool_], exclusive: list[NDArray[np.intp]]
) -> list[Category]:
    """The categories both solvers model with one multinomial: two or more of its codes seen,
    each exemplar carrying at most one. One code seen beside "no code" is a one-vs-rest model
    (the same model); a category where an exemplar carries two codes (not exclusive in the
    data) falls back to one-vs-rest per code."""
    categories = []
    for columns in exclusive:
        block = labels[:, columns]
        present = np.sort(columns[block.any(axis=0)])
        if len(present) < 2 or (block.sum(axis=1) > 1).any():
            continue
        categories.append(Category(present, none=bool((~block.any(axis=1)).any())))
    return categories


def linear_scores(state: LinearState, vectors: Embeddings) -> Scores:
    """(units, codes) probabilities: sigmoid per one-vs-rest code, softmax per category; where
    "no code" is a class of the category, its probability is what the category's codes leave."""
    matrix = vectors.astype(np.float64)
    logits = matrix @ state.weights + state.biases
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -50.0, 50.0)))
    scores = np.where(np.isnan(state.constant), scores, state.constant)
    for model in state.multinomials:
        class_logits = matrix @ model.weights + model.biases
        class_logits -= class_logits.max(axis=1, keepdims=True)
        probabilities = np.exp(class_logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        scores[:, model.columns] = probabilities[:, : len(model.columns)]
    return scores
