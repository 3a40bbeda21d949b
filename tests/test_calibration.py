"""Threshold calibration: vectorised agreement equals scikit-learn's, folds stay grouped."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, f1_score

from models.calibration import (
    NEVER,
    agreement_at_thresholds,
    best_threshold,
    calibrate_thresholds,
    inner_folds,
)


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=40),
    data=st.data(),
)
def test_vectorised_kappa_and_f1_equal_sklearn(scores: list[float], data: st.DataObject) -> None:
    truth = np.array(data.draw(st.lists(st.booleans(), min_size=len(scores), max_size=len(scores))))
    values = np.array(scores)
    thresholds = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5)))
    kappas = agreement_at_thresholds(values, truth, thresholds, "kappa")
    f1s = agreement_at_thresholds(values, truth, thresholds, "f1")
    for threshold, kappa, f1 in zip(thresholds, kappas, f1s, strict=True):
        predicted = values >= threshold
        expected = (
            cohen_kappa_score(truth, predicted) if len(set(truth) | set(predicted)) > 1 else 1.0
        )
        if np.isnan(expected):
            expected = 0.0
        assert np.isclose(kappa, expected), (threshold, kappa, expected)
        assert np.isclose(f1, f1_score(truth, predicted, zero_division=0.0))


def test_textbook_kappa_at_a_threshold() -> None:
    # Cohen's 2x2 example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4.
    truth = np.array([True] * 25 + [False] * 25)
    scores = np.array([0.9] * 20 + [0.1] * 5 + [0.9] * 10 + [0.1] * 15)
    [kappa] = agreement_at_thresholds(scores, truth, np.array([0.5]), "kappa")
    assert np.isclose(kappa, 0.4)


def test_best_threshold_separates_and_sits_between_the_classes() -> None:
    scores = np.array([0.1, 0.2, 0.25, 0.8, 0.9])
    truth = np.array([False, False, False, True, True])
    threshold = best_threshold(scores, truth, "kappa")
    assert 0.25 < threshold < 0.8


def test_code_without_positives_is_never_suggested() -> None:
    labels = np.array([[True, False], [False, False], [True, False]])
    scores = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.1]])
    thresholds = calibrate_thresholds(scores, labels)
    assert thresholds[1] == NEVER
    assert 0.1 < thresholds[0] < 0.8


def test_inner_folds_keep_groups_apart_and_cover_everything() -> None:
    groups = tuple(f"t{i % 7}" for i in range(70))
    folds = inner_folds(groups, 3, seed=1)
    assert len(folds) == 3
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(70))
    for train, test in folds:
        assert not {groups[i] for i in train} & {groups[i] for i in test}
    assert inner_folds(("only",) * 5, 3, seed=0) == []
