"""Multi-label agreement: per-code, pooled and mean kappa, MASI distance and alpha."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from eval.agreement import (
    krippendorff_alpha_masi,
    masi_distance_empty_safe,
    multilabel_agreement,
    pairwise_cohen_by_code,
    pooled_kappa_statistic,
)

MULTI_CODES = ("a", "b", "c", "d")
MULTI_TRUTH = [
    frozenset({"a"}),
    frozenset({"a", "b"}),
    frozenset(),
    frozenset({"b"}),
    frozenset({"a", "c"}),
    frozenset(),
]
MULTI_PREDICTED = [
    frozenset({"a"}),
    frozenset({"a"}),
    frozenset({"b"}),
    frozenset({"b"}),
    frozenset({"c"}),
    frozenset(),
]


def test_multilabel_per_code_matches_sklearn() -> None:
    result = multilabel_agreement(MULTI_TRUTH, MULTI_PREDICTED, MULTI_CODES)
    for code_result in result.per_code[:3]:
        code = code_result.code
        expected = cohen_kappa_score(
            [code in s for s in MULTI_TRUTH], [code in s for s in MULTI_PREDICTED]
        )
        assert code_result.kappa == pytest.approx(expected, abs=1e-12)
    assert [c.code for c in result.per_code] == list(MULTI_CODES)


def test_multilabel_counts_prevalence_and_undefined_code() -> None:
    result = multilabel_agreement(MULTI_TRUTH, MULTI_PREDICTED, MULTI_CODES)
    a, b, _, d = result.per_code
    assert (a.n_true, a.n_predicted, a.n_both) == (3, 2, 2)
    assert (b.n_true, b.n_predicted, b.n_both) == (2, 2, 1)
    assert a.prevalence_truth == pytest.approx(0.5)
    assert b.prevalence_predicted == pytest.approx(1 / 3)
    # "d" is used by nobody: its kappa is undefined and it stays out of the mean.
    assert d.kappa is None
    assert d.n_true == d.n_predicted == 0
    defined = [c.kappa for c in result.per_code if c.kappa is not None]
    assert result.mean_kappa == pytest.approx(sum(defined) / 3)
    assert result.n == 6


def test_multilabel_pooled_kappa_is_kappa_over_all_decisions() -> None:
    result = multilabel_agreement(MULTI_TRUTH, MULTI_PREDICTED, MULTI_CODES)
    truth = [code in s for s in MULTI_TRUTH for code in MULTI_CODES]
    predicted = [code in s for s in MULTI_PREDICTED for code in MULTI_CODES]
    assert result.pooled_kappa == pytest.approx(cohen_kappa_score(truth, predicted), abs=1e-12)
    statistic = pooled_kappa_statistic(MULTI_TRUTH, MULTI_PREDICTED, MULTI_CODES)
    assert statistic(np.arange(6)) == pytest.approx(result.pooled_kappa, abs=1e-12)


def test_multilabel_alpha_masi_by_hand() -> None:
    # Units: {a}|{a}, {a,b}|{a}, {}|{b}, {b}|{b}, {a,c}|{c}, {}|{}. Values and counts n_v:
    # {a}:3, {a,b}:1, {}:3, {b}:3, {a,c}:1, {c}:1 (n = 12). MASI: {a,b}-{a} and {a,c}-{c} are
    # subsets, 1 - (1/2)(2/3) = 2/3; the empty set against any non-empty set is 1.
    d_observed = (2 * (2 / 3) + 2 * 1 + 2 * (2 / 3)) / 12
    distinct = {"a": 3, "ab": 1, "": 3, "b": 3, "ac": 1, "c": 1}
    pairs = 0.0
    for first, n_first in distinct.items():
        for second, n_second in distinct.items():
            distance = masi_distance_empty_safe(frozenset(first), frozenset(second))
            pairs += n_first * n_second * distance
    d_expected = pairs / (12 * 11)
    result = multilabel_agreement(MULTI_TRUTH, MULTI_PREDICTED, MULTI_CODES)
    assert result.alpha_masi == pytest.approx(1 - d_observed / d_expected, abs=1e-12)


def test_masi_distance_handles_empty_sets() -> None:
    assert masi_distance_empty_safe(frozenset(), frozenset()) == 0.0
    assert masi_distance_empty_safe(frozenset(), frozenset({"a"})) == 1.0
    assert masi_distance_empty_safe(frozenset({"a", "b"}), frozenset({"a"})) == pytest.approx(2 / 3)
    assert masi_distance_empty_safe(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(
        1 - (1 / 3) * (1 / 3)
    )


def test_alpha_with_empty_sets_is_nominal_alpha_by_hand() -> None:
    # Values E (empty) and X ({x}); units E|E, X|X, X|E: Do = 2/6, De = 2*3*3/(6*5), alpha = 4/9.
    codings = {
        "h": {"1": frozenset(), "2": frozenset({"x"}), "3": frozenset({"x"})},
        "m": {"1": frozenset(), "2": frozenset({"x"}), "3": frozenset()},
    }
    assert krippendorff_alpha_masi(codings) == pytest.approx(4 / 9, abs=1e-12)


def test_all_empty_code_sets_agree_but_nothing_is_defined() -> None:
    empty = [frozenset[str]()] * 5
    result = multilabel_agreement(empty, empty, ["a", "b"])
    assert all(c.kappa is None for c in result.per_code)
    assert result.pooled_kappa is None
    assert result.mean_kappa is None
    assert result.alpha_masi is None
    assert [c.prevalence_truth for c in result.per_code] == [0.0, 0.0]


def test_pairwise_cohen_by_code_matches_sklearn() -> None:
    units = [str(i) for i in range(len(MULTI_TRUTH))]
    by_code = pairwise_cohen_by_code(
        {
            "h": dict(zip(units, MULTI_TRUTH, strict=True)),
            "m": dict(zip(units, MULTI_PREDICTED, strict=True)),
        },
        MULTI_CODES,
    )
    result = multilabel_agreement(MULTI_TRUTH, MULTI_PREDICTED, MULTI_CODES)
    assert [entry.code for entry in by_code] == list(MULTI_CODES)
    for entry, code_result in zip(by_code, result.per_code, strict=True):
        assert entry.agreement.pairs[0].kappa == code_result.kappa
        assert entry.agreement.pairs[0].n == 6
