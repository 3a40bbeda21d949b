"""How a suggester decides each exclusive category of a codebook.

Three rules, chosen per category from the training units and the head: its best code where
every unit carries exactly one of its codes (AnnoMI, SwDA), its codes' scores weighted for the
best kappa on inner folds; its most likely class, a code or
"no code", where the head learned "no code" as a class (its scores of the category and "no
code" sum to one) and a unit carries at most one; else its best code if that passes the code's
threshold. "No code" as a class has a threshold of its own, calibrated on inner folds.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from codebook.model import Codebook
from models.calibration import NEVER, kappa_class_weights, no_code_threshold

Scores = NDArray[np.float64]
GroupRule = Literal["best", "best-or-none", "threshold"]
Group = tuple[NDArray[np.intp], GroupRule]


def exclusive_columns(codebook: Codebook, code_ids: tuple[str, ...]) -> list[NDArray[np.intp]]:
    """The columns (positions in ``code_ids``) of each exclusive category's codes."""
    column = {code: j for j, code in enumerate(code_ids)}
    return [
        np.array([column[code] for code in members], dtype=np.intp)
        for members in codebook.exclusive_groups.values()
    ]


def exclusive_groups(
    codebook: Codebook, code_ids: tuple[str, ...], labels: NDArray[np.bool_], learns_no_code: bool
) -> list[Group]:
    """Column indices of each exclusive group and how it is decided: its best code where every
    training unit carries exactly one of its codes (AnnoMI, SwDA); its most likely class, a
    code or no code, where the head learns "no code" and each unit carries at most one; else
    its best code if that passes its threshold."""
    groups: list[Group] = []
    for columns in exclusive_columns(codebook, code_ids):
        per_unit = labels[:, columns].sum(axis=1)
        rule: GroupRule = "threshold"
        if len(labels) and (per_unit == 1).all():
            rule = "best"
        elif len(labels) and learns_no_code and (per_unit <= 1).all():
            rule = "best-or-none"
        groups.append((columns, rule))
    return groups


def no_code_thresholds(
    groups: list[Group], oof: Scores | None, labels: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Per group, the calibrated "no code" threshold of a category with "no code" as a class
    (:func:`models.calibration.no_code_threshold`); NaN: decided by the most likely class."""
    thresholds = np.full(len(groups), np.nan)
    for number, (columns, rule) in enumerate(groups):
        if rule == "best-or-none" and oof is not None:
            thresholds[number] = no_code_threshold(oof[:, columns], labels[:, columns])
    return thresholds


def class_weights(
    groups: list[Group], oof: Scores | None, labels: NDArray[np.bool_]
) -> list[NDArray[np.float64]]:
    """Per group, the weights its codes' scores are multiplied by before a category decided by
    its best code takes it (:func:`models.calibration.kappa_class_weights`); all 1 elsewhere
    and without inner folds."""
    weights = []
    for columns, rule in groups:
        if rule == "best" and oof is not None and len(columns) > 1:
            weights.append(kappa_class_weights(oof[:, columns], labels[:, columns]))
        else:
            weights.append(np.ones(len(columns)))
    return weights


def left_for_no_code(group_scores: Scores) -> NDArray[np.float64]:
    """The "no code" class's probability: what the category's codes leave of one."""
    left: NDArray[np.float64] = np.clip(1.0 - group_scores.sum(axis=1), 0.0, 1.0)
    return left


def argmax_columns(groups: list[Group], codes: int) -> NDArray[np.bool_]:
    """Codes of categories decided by their best class (threshold 0)."""
    argmax = np.zeros(codes, dtype=bool)
    for columns, rule in groups:
        argmax[columns] = rule != "threshold"
    return argmax


def decide_no_code(
    decided: NDArray[np.bool_],
    scores: Scores,
    thresholds: NDArray[np.float64],
    columns: NDArray[np.bool_],
    margin: float,
) -> NDArray[np.bool_]:
    """Among ``columns`` (codes decided by their thresholds), "no code" by the calibrated
    ``margin`` (:func:`models.calibration.no_code_margin`): below 0, a unit none of them passes
    gets its best one where that misses by less than ``-margin``; above 0, a unit whose best
    one passes by less than ``margin`` gets none of them; 0 changes nothing."""
    usable = columns & (thresholds < NEVER)
    if margin == 0.0 or not usable.any():
        return decided
    gaps = np.where(usable, scores - thresholds, -np.inf)
    best_gap = gaps.max(axis=1)
    given = decided.copy()
    if margin < 0.0:
        rows = np.flatnonzero(~decided[:, columns].any(axis=1) & (best_gap >= margin))
        given[rows, np.argmax(gaps, axis=1)[rows]] = True
    else:
        given[np.ix_(best_gap < margin, columns)] = False
    return given
