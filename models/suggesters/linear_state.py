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


@dataclass(frozen=True)
class LinearState:
    weights: NDArray[np.float64]  # (dim, codes) for one-vs-rest columns
    biases: NDArray[np.float64]  # (codes,)
    constant: NDArray[np.float64]  # (codes,), NaN where a one-vs-rest model was fitted
    multinomials: tuple[Multinomial, ...]


def linear_scores(state: LinearState, vectors: Embeddings) -> Scores:
    """(units, codes) probabilities: sigmoid per one-vs-rest code, softmax per category."""
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
