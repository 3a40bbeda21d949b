"""The linear head's joint solver: every code's logistic regression in one L-BFGS run.

Fitting 75 one-vs-rest models one scikit-learn call at a time costs 75 passes of Python and
BLAS start-up per iteration; the models share nothing but the data, so their objectives add up
to one separable problem whose optimum is each model's own. One ``scipy.optimize.minimize``
over all weights does the work in a few large matrix products per iteration. The objective is
scikit-learn's ``LogisticRegression(C=c)`` with lbfgs (mean loss + ||W||^2 / (2 C n), free
intercepts) and so are the stopping settings (largest gradient component below ``tol``, its
``ftol`` and ``maxls``).

Features are centred first: the same models (the intercepts absorb the mean), but the intercept
no longer fights the weights, so L-BFGS needs far fewer iterations. A previous state warm-starts
the solver, so refits on inner folds or after a small change take a few iterations.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from models.encoder import Embeddings
from models.suggesters.linear_state import (
    Category,
    LinearState,
    Multinomial,
    multinomial_categories,
)

# float32 products and logistic terms cut an iteration from 47 to 36 ms at 10,000 exemplars
# (the matmuls alone halve); the loss and gradient are still summed in float64, which is what
# the line search compares, and the tests check the optimum against scikit-learn's.
MATMUL_DTYPE = np.float32
# scikit-learn's settings for lbfgs (maxiter and gtol come from the suggester)
_LBFGS_OPTIONS = {"maxls": 50, "ftol": 64 * float(np.finfo(float).eps)}


@dataclass(frozen=True)
class _Layout:
    """Which code columns each column of the joint weight matrix models."""

    ovr: NDArray[np.intp]  # code column of each one-vs-rest model
    pairs: NDArray[np.intp]  # (pairs, 2): two-class categories, (negative, positive) columns
    softmax: tuple[Category, ...]  # each 3+-class category: its code columns, "no code" last
    constant: NDArray[np.float64]  # (codes,) as in LinearState: NaN for one-vs-rest columns

    @property
    def binary(self) -> int:
        return len(self.ovr) + len(self.pairs)

    @property
    def width(self) -> int:
        return self.binary + sum(category.classes for category in self.softmax)


def fit_joint(
    vectors: Embeddings,
    labels: NDArray[np.bool_],
    exclusive: list[NDArray[np.intp]],
    *,
    c: float,
    max_iter: int,
    tol: float = 1e-4,
    warm: object = None,
) -> LinearState:
    """The same state as one scikit-learn fit per code (or per exclusive category)."""
    layout = _layout(labels, exclusive)
    dim = vectors.shape[1]
    mean = vectors.mean(axis=0, dtype=np.float64)
    theta = _initial(layout, warm, mean, dim, labels.shape[1])
    if layout.width:
        centred = (vectors - mean).astype(MATMUL_DTYPE)
        binary = np.hstack([labels[:, layout.ovr], labels[:, layout.pairs[:, 1]]])
        signs = (2.0 * binary - 1.0).astype(MATMUL_DTYPE)
        softmax_targets = [_class_targets(labels, category) for category in layout.softmax]
        with _solver_blas().limit(limits=1):
            result = minimize(
                _objective,
                theta,
                args=(centred, signs, softmax_targets, layout, c),
                jac=True,
                method="L-BFGS-B",
                options=_LBFGS_OPTIONS | {"maxiter": max_iter, "gtol": tol},
            )
        if result.nit >= max_iter:  # as scikit-learn does, rather than fail
            warnings.warn(
                f"the joint logistic regression did not converge in {max_iter} iterations; "
                "raise max_iter",
                ConvergenceWarning,
                stacklevel=2,
            )
        theta = result.x
    return _state(layout, theta, mean, dim)


@cache
def _solver_blas() -> ThreadpoolController:
    """The BLAS that L-BFGS-B calls, to run on one thread: its many small vector operations
    each woke every OpenBLAS thread, which on two busy cores made a fit up to 8x slower
    (eval/RESULTS.md). Only scipy's own copy where it has one, so that numpy's products (and
    torch, in the service) keep their threads; every BLAS where the two are not told apart.
    Fits overlapping in threads may restore each other's one thread: harmless for this copy."""
    blas = ThreadpoolController().select(user_api="blas")
    own = [
        lib.filepath
        for lib in blas.lib_controllers
        if Path(lib.filepath).parent.name == "scipy.libs"
    ]
    return blas.select(filepath=own) if own else blas


def _layout(labels: NDArray[np.bool_], exclusive: list[NDArray[np.intp]]) -> _Layout:
    """As the per-code solver decides: a multinomial per exclusive category with two or more
    codes seen ("no code" one more class where some exemplar carries none of them), a constant
    for a code all or no exemplars carry, one-vs-rest for the rest."""
    constant = np.full(labels.shape[1], np.nan)
    pairs: list[NDArray[np.intp]] = []
    softmax: list[Category] = []
    for category in multinomial_categories(labels, exclusive):
        if category.classes == 2:
            pairs.append(category.columns)
        else:
            softmax.append(category)
        constant[category.columns] = 0.0  # placeholder: the category's model scores these
    ovr = []
    for column in np.flatnonzero(np.isnan(constant)):
        target = labels[:, column]
        if target.all() or not target.any():
            constant[column] = float(target.all())
        else:
            ovr.append(column)
    return _Layout(
        ovr=np.asarray(ovr, dtype=np.intp),
        pairs=np.asarray(pairs, dtype=np.intp).reshape(-1, 2),
        softmax=tuple(softmax),
        constant=constant,
    )


def _class_targets(labels: NDArray[np.bool_], category: Category) -> NDArray[np.intp]:
    """Each exemplar's class in the category's model: its code's position, or "no code" (last)."""
    block = labels[:, category.columns]
    return np.where(block.any(axis=1), np.argmax(block, axis=1), len(category.columns))


def _objective(
    theta: NDArray[np.float64],
    centred: NDArray[Any],
    binary_signs: NDArray[np.float64],
    softmax_targets: list[NDArray[np.intp]],
    layout: _Layout,
    c: float,
) -> tuple[float, NDArray[np.float64]]:
    rows, dim = centred.shape
    weights = theta[: dim * layout.width].reshape(dim, layout.width)
    logits = centred @ weights.astype(centred.dtype)
    logits += theta[dim * layout.width :].astype(centred.dtype)
    loss, dlogits = _binary_loss(logits[:, : layout.binary], binary_signs)
    start = layout.binary
    for category, targets in zip(layout.softmax, softmax_targets, strict=True):
        block = slice(start, start + category.classes)
        block_loss, dlogits_block = _softmax_loss(logits[:, block].astype(np.float64), targets)
        loss += block_loss
        dlogits = np.hstack([dlogits, dlogits_block.astype(dlogits.dtype)])
        start += category.classes
    penalty = 1.0 / (c * rows)
    value = loss / rows + 0.5 * penalty * float(np.sum(weights * weights))
    grad_weights = (centred.T @ dlogits.astype(centred.dtype)).astype(np.float64) / rows
    grad_weights += penalty * weights
    grad_biases = dlogits.sum(axis=0, dtype=np.float64) / rows
    return value, np.concatenate([grad_weights.ravel(), grad_biases])


def _binary_loss(logits: NDArray[Any], signs: NDArray[Any]) -> tuple[float, NDArray[Any]]:
    """Logistic loss and its gradient for targets +1/-1, in two passes (log_expit, expit)
    instead of logaddexp's slower one."""
    signed = logits * signs
    loss = -float(np.sum(log_expit(signed), dtype=np.float64))
    return loss, -signs * expit(-signed)


def _softmax_loss(
    logits: NDArray[np.float64], targets: NDArray[np.intp]
) -> tuple[float, NDArray[np.float64]]:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(len(targets))
    loss = float(np.sum(log_norm - shifted[rows, targets]))
    probabilities = np.exp(shifted - log_norm[:, None])
    probabilities[rows, targets] -= 1.0
    return loss, probabilities


def _initial(
    layout: _Layout, warm: object, mean: NDArray[np.float64], dim: int, codes: int
) -> NDArray[np.float64]:
    """Flat (weights, biases) in centred coordinates: a previous state's models where the same
    models are fitted again, zeros elsewhere (scikit-learn's start)."""
    weights, biases = np.zeros((dim, layout.width)), np.zeros(layout.width)
    if isinstance(warm, LinearState) and warm.weights.shape == (dim, codes):
        _copy_warm(layout, warm, weights, biases)
    biases += mean @ weights
    return np.concatenate([weights.ravel(), biases])


def _copy_warm(
    layout: _Layout, warm: LinearState, weights: NDArray[np.float64], biases: NDArray[np.float64]
) -> None:
    owner = {
        int(column): (model, position)
        for model in warm.multinomials
        for position, column in enumerate(model.columns)
    }
    for i, column in enumerate(layout.ovr):
        if np.isnan(warm.constant[column]):
            weights[:, i], biases[i] = warm.weights[:, column], warm.biases[column]
    for i, (negative, positive) in enumerate(layout.pairs, start=len(layout.ovr)):
        if int(negative) in owner and int(positive) in owner:
            (model, low), (_, high) = owner[int(negative)], owner[int(positive)]
            # the logit difference is the binary model (exact for a warm two-class state)
            weights[:, i] = model.weights[:, high] - model.weights[:, low]
            biases[i] = model.biases[high] - model.biases[low]
    start = layout.binary
    for category in layout.softmax:
        for i, column in enumerate(category.columns, start=start):
            if int(column) in owner:
                model, position = owner[int(column)]
                weights[:, i], biases[i] = model.weights[:, position], model.biases[position]
        previous = [owner[int(c)][0] for c in category.columns if int(c) in owner]
        if category.none and previous and previous[0].none:
            last = start + category.classes - 1
            weights[:, last], biases[last] = previous[0].weights[:, -1], previous[0].biases[-1]
        start += category.classes


def _state(
    layout: _Layout, theta: NDArray[np.float64], mean: NDArray[np.float64], dim: int
) -> LinearState:
    """Back to the per-code state in uncentred coordinates (b = b' - mean . w)."""
    weights = theta[: dim * layout.width].reshape(dim, layout.width)
    biases = theta[dim * layout.width :] - mean @ weights
    codes = len(layout.constant)
    ovr_weights, ovr_biases = np.zeros((dim, codes)), np.zeros(codes)
    ovr = len(layout.ovr)
    ovr_weights[:, layout.ovr], ovr_biases[layout.ovr] = weights[:, :ovr], biases[:ovr]
    constant = layout.constant.copy()
    models = [
        # scikit-learn's two-class convention, halved to a symmetric softmax
        Multinomial(
            pair,
            np.stack([-weights[:, i], weights[:, i]], axis=1) / 2.0,
            np.array([-biases[i], biases[i]]) / 2.0,
        )
        for i, pair in enumerate(layout.pairs, start=ovr)
    ]
    start = layout.binary
    for category in layout.softmax:
        block = slice(start, start + category.classes)
        models.append(
            Multinomial(
                category.columns, weights[:, block].copy(), biases[block].copy(), category.none
            )
        )
        start += category.classes
    return LinearState(ovr_weights, ovr_biases, constant, tuple(models))
