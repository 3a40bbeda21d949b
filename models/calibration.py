"""Per-code decision thresholds, calibrated by cross-validation inside the training data.

A score of 0.5 means different things for a code seen twice and a code seen two hundred times,
so each code gets its own threshold. It is chosen on out-of-fold scores of the *training*
exemplars (grouped folds, so a transcript never scores itself), never on data being evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import GroupKFold

from models.exemplars import Exemplars

CalibrationTarget = Literal["kappa", "f1"]
DEFAULT_THRESHOLD = 0.5
NEVER = 1.01  # above any score in [0, 1]: a code with no positive exemplar is never suggested
_GRID_SIZE = 41
MIN_NO_CODE_UNITS = 5  # uncoded training units below which "no code" is not calibrated
# class weights of a category decided by its best code: from 0.4 to 2.5 on a log scale
_WEIGHT_GRID = np.exp(np.linspace(np.log(0.4), np.log(2.5), 15))
_WEIGHT_ROUNDS = 2

Scores = NDArray[np.float64]
FitAndScore = Callable[[Exemplars, NDArray[np.float32]], Scores]


def inner_folds(
    groups: tuple[str, ...], n_folds: int, seed: int
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Grouped folds over the training exemplars; fewer folds when there are few groups."""
    distinct = len(set(groups))
    folds = min(n_folds, distinct)
    if folds < 2:
        return []
    # GroupKFold is deterministic; shuffling the group names with the seed varies the split.
    rng = np.random.default_rng(seed)
    names = sorted(set(groups))
    shuffled = {name: rank for rank, name in enumerate(rng.permutation(names))}
    keys = np.array([shuffled[group] for group in groups])
    splitter = GroupKFold(n_splits=folds)
    placeholder = np.zeros(len(groups))
    return [
        (np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp))
        for train, test in splitter.split(placeholder, groups=keys)
    ]


def out_of_fold_scores(
    fit_and_score: FitAndScore, exemplars: Exemplars, n_codes: int, n_folds: int, seed: int
) -> Scores | None:
    """Scores of every training exemplar from a model that never saw its group; None if
    there are too few groups to hold any out."""
    folds = inner_folds(exemplars.group_labels(), n_folds, seed)
    if not folds:
        return None
    scores = np.zeros((len(exemplars), n_codes), dtype=np.float64)
    for train, test in folds:
        scores[test] = fit_and_score(exemplars.subset(train), exemplars.vectors[test])
    return scores


def calibrate_thresholds(
    scores: Scores | None, labels: NDArray[np.bool_], target: CalibrationTarget = "kappa"
) -> NDArray[np.float64]:
    """For each code, the threshold on out-of-fold scores that maximises the target."""
    thresholds = np.full(labels.shape[1], DEFAULT_THRESHOLD)
    for column in range(labels.shape[1]):
        truth = labels[:, column]
        if not truth.any():
            thresholds[column] = NEVER
        elif scores is not None:
            thresholds[column] = best_threshold(scores[:, column], truth, target)
    return thresholds


def carried_thresholds(
    calibrated: NDArray[np.float64], fresh: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Calibrated thresholds, except where a code gained its first exemplar or lost its last
    one since (the fresh default, or NEVER): a refit that does not recalibrate keeps them."""
    changed = (calibrated >= NEVER) | (fresh >= NEVER)
    return np.where(changed, fresh, calibrated)


def best_threshold(
    scores: NDArray[np.float64], truth: NDArray[np.bool_], target: CalibrationTarget
) -> float:
    """The candidate threshold with the best agreement; ties go to the one nearest 0.5."""
    candidates = _candidate_thresholds(scores)
    if len(candidates) == 0:
        return DEFAULT_THRESHOLD
    values = agreement_at_thresholds(scores, truth, candidates, target)
    best_value = values.max()
    tied = candidates[values >= best_value - 1e-12]
    return float(tied[np.argmin(np.abs(tied - 0.5))])


def _candidate_thresholds(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    """Midpoints between neighbouring distinct scores, thinned to a grid.

    Midpoints rather than the scores themselves: a threshold exactly at the training positives'
    score would reject a new unit scoring a hair lower.
    """
    distinct = np.unique(scores)
    midpoints = (distinct[:-1] + distinct[1:]) / 2.0
    if len(midpoints) > _GRID_SIZE:
        midpoints = np.unique(np.quantile(midpoints, np.linspace(0.0, 1.0, _GRID_SIZE)))
    return midpoints[midpoints > 0.0]


def agreement_at_thresholds(
    scores: NDArray[np.float64],
    truth: NDArray[np.bool_],
    thresholds: NDArray[np.float64],
    target: CalibrationTarget,
) -> NDArray[np.float64]:
    """Kappa (0 where undefined) or F1 of ``scores >= t`` against ``truth``, for every t.

    One pass over all thresholds from cumulative counts, because calibrating 75 codes on 41
    thresholds one sklearn call at a time costs seconds per fit; tests check each value
    against ``sklearn.metrics.cohen_kappa_score`` / ``f1_score``.
    """
    n = float(len(truth))
    order = np.argsort(scores)
    sorted_scores, sorted_truth = scores[order], truth[order].astype(np.float64)
    # Units at or above t are those from the first sorted position whose score is >= t.
    first_above = np.searchsorted(sorted_scores, thresholds, side="left")
    positives_above = np.concatenate([np.cumsum(sorted_truth[::-1])[::-1], [0.0]])
    true_pos = positives_above[first_above]
    predicted_pos = n - first_above
    actual_pos = sorted_truth.sum()
    false_pos = predicted_pos - true_pos
    false_neg = actual_pos - true_pos
    if target == "f1":
        denominator = 2 * true_pos + false_pos + false_neg
        f1: NDArray[np.float64] = np.divide(
            2 * true_pos, denominator, out=np.zeros_like(true_pos), where=denominator > 0
        )
        return f1
    observed = (n - false_pos - false_neg) / n
    expected = (predicted_pos * actual_pos + (n - predicted_pos) * (n - actual_pos)) / (n * n)
    undefined = np.isclose(expected, 1.0)
    kappa = (observed - expected) / np.where(undefined, 1.0, 1.0 - expected)
    return np.where(undefined, np.where(np.isclose(observed, 1.0), 1.0, 0.0), kappa)


def no_code_threshold(scores: Scores, labels: NDArray[np.bool_]) -> float:
    """For an exclusive category whose head learned "no code" as a class: the probability of
    "no code" (what the codes' scores leave) at or above which a unit gets no code, else its
    best code; chosen on out-of-fold ``scores`` of the category's codes for the best Cohen's
    kappa over the category's labels, "no code" one of them, against ``labels``. NaN where no
    threshold beats deciding by the most likely class (which stays the rule then)."""
    left = np.clip(1.0 - scores.sum(axis=1), 0.0, 1.0)
    no_code = scores.shape[1]
    best = np.argmax(scores, axis=1)
    truth = np.where(labels.any(axis=1), np.argmax(labels, axis=1), no_code)
    most_likely = np.where(left > scores.max(axis=1, initial=0.0), no_code, best)
    baseline = _label_kappa(truth, most_likely)
    candidates = _candidate_thresholds(left)
    values = np.array([_label_kappa(truth, np.where(left >= t, no_code, best)) for t in candidates])
    if len(values) == 0 or values.max() <= baseline + 1e-12:
        return float("nan")
    tied = candidates[values >= values.max() - 1e-12]
    return float(tied[np.argmin(np.abs(tied - 0.5))])


def _label_kappa(truth: NDArray[np.intp], predicted: NDArray[np.intp]) -> float:
    """Cohen's kappa over integer labels from their confusion counts (sklearn's value, without
    its per-call cost: calibrating 41 codes takes a thousand of these); 0 where undefined."""
    classes = int(max(truth.max(initial=0), predicted.max(initial=0))) + 1
    cells = np.bincount(truth * classes + predicted, minlength=classes * classes)
    table = cells.reshape(classes, classes).astype(np.float64)
    total = table.sum()
    if total == 0:
        return 0.0
    observed = np.trace(table) / total
    expected = float(table.sum(axis=0) @ table.sum(axis=1)) / (total * total)
    return 0.0 if np.isclose(expected, 1.0) else float((observed - expected) / (1.0 - expected))


def no_code_margin(
    scores: Scores, labels: NDArray[np.bool_], thresholds: NDArray[np.float64]
) -> float:
    """For codes decided by their thresholds: the margin by which a unit's best code must pass
    its threshold for the unit to be coded, so that "no code" is decided where it agrees best
    with the humans' "no code" (Cohen's kappa on out-of-fold ``scores``). Below 0, a unit that
    no code passes still gets its best one when that misses by less; above 0, a unit whose best
    code passes by less gets no code. 0, the plain rule, unless another margin beats it. Codes
    no exemplar carries (threshold NEVER) never count."""
    truth_none: NDArray[np.bool_] = np.logical_not(labels.any(axis=1))
    # Without humans' "no code" decisions to learn from (a project whose coders only stored
    # coded sentences), "no code" keeps the plain rule rather than vanishing.
    usable = thresholds < NEVER
    if not usable.any() or truth_none.sum() < MIN_NO_CODE_UNITS:
        return 0.0
    best_gap = (scores[:, usable] - thresholds[usable]).max(axis=1)
    distinct = np.unique(-best_gap)
    candidates = (distinct[:-1] + distinct[1:]) / 2.0
    if len(candidates) > _GRID_SIZE:
        candidates = np.unique(np.quantile(candidates, np.linspace(0.0, 1.0, _GRID_SIZE)))
    # "no code" where -best_gap >= t, i.e. best_gap <= -t; the plain rule first (t just above 0)
    candidates = np.concatenate([[1e-12], candidates])
    values = agreement_at_thresholds(-best_gap, truth_none, candidates, "kappa")
    if values.max() <= values[0] + 1e-12:
        return 0.0
    return -float(candidates[np.argmax(values)])


def kappa_class_weights(scores: Scores, labels: NDArray[np.bool_]) -> NDArray[np.float64]:
    """For a category decided by its best code: a weight per code, by which its score is
    multiplied before the best is taken, chosen on out-of-fold ``scores`` for the best Cohen's
    kappa over the category's labels (a rare code the most likely class rarely picks gets a
    weight above 1). Coordinate ascent over a grid fixed in advance, twice round the codes,
    from all weights 1 (the most likely class), keeping a change only where it helps."""
    truth = np.argmax(labels, axis=1)
    weights = np.ones(scores.shape[1])
    best = _label_kappa(truth, np.argmax(scores, axis=1))
    for _ in range(_WEIGHT_ROUNDS):
        for code in range(scores.shape[1]):
            for value in _WEIGHT_GRID:
                trial = weights.copy()
                trial[code] = value
                kappa = _label_kappa(truth, np.argmax(scores * trial, axis=1))
                if kappa > best + 1e-9:
                    best, weights = kappa, trial
    return weights
