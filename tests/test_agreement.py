"""Agreement statistics: textbook values, properties, and the edge cases a report runs into."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score

from codebook.errors import InputError
from eval.agreement import (
    NO_CODE,
    bootstrap_ci,
    cohen_kappa_statistic,
    exclusive_agreement,
    fleiss,
    krippendorff_alpha_masi,
    masi_distance_empty_safe,
    multilabel_agreement,
    pairwise_cohen,
    pairwise_cohen_by_code,
    pooled_kappa_statistic,
)

# --- textbook data --------------------------------------------------------------------------

# Cohen's example as on Wikipedia: 50 proposals, A and B say Yes/No.
COHEN_PAIRS = (
    [("Yes", "Yes")] * 20 + [("Yes", "No")] * 5 + [("No", "Yes")] * 10 + [("No", "No")] * 15
)
COHEN_A = [a for a, _ in COHEN_PAIRS]
COHEN_B = [b for _, b in COHEN_PAIRS]

# Fleiss (1971) as on Wikipedia: 10 subjects, 14 raters, counts per category 1..5.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data, 4 observers,
# 12 units, "." missing; alpha = 0.743.
KRIPPENDORFF_ROWS = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}


def krippendorff_labels() -> dict[str, dict[str, str]]:
    return {
        coder: {f"u{unit:02d}": value for unit, value in enumerate(row.split()) if value != "."}
        for coder, row in KRIPPENDORFF_ROWS.items()
    }


def as_singletons(labels: dict[str, dict[str, str]]) -> dict[str, dict[str, frozenset[str]]]:
    return {
        coder: {unit: frozenset({value}) for unit, value in by_unit.items()}
        for coder, by_unit in labels.items()
    }


def fleiss_labels_by_coder() -> dict[str, dict[str, str]]:
    # Fleiss' raters are anonymous per subject: rater j gives the j-th of the expanded ratings.
    by_coder: dict[str, dict[str, str]] = {f"r{rater}": {} for rater in range(14)}
    for subject, counts in enumerate(FLEISS_TABLE):
        ratings = [str(category + 1) for category, n in enumerate(counts) for _ in range(n)]
        for rater, rating in enumerate(ratings):
            by_coder[f"r{rater}"][f"s{subject}"] = rating
    return by_coder


def test_cohen_textbook_kappa_is_0_4() -> None:
    result = exclusive_agreement(COHEN_A, COHEN_B, labels=["Yes", "No"])
    assert result.kappa == pytest.approx(0.4, abs=1e-12)
    assert result.accuracy == pytest.approx(0.7, abs=1e-12)
    assert result.n == 50
    assert result.labels == ("Yes", "No")
    assert result.confusion == ((20, 5), (10, 15))


def test_cohen_textbook_per_label_figures() -> None:
    yes, no = exclusive_agreement(COHEN_A, COHEN_B, labels=["Yes", "No"]).per_label
    assert (yes.label, yes.support, no.support) == ("Yes", 25, 25)
    assert yes.precision == pytest.approx(20 / 30)
    assert yes.recall == pytest.approx(20 / 25)
    assert yes.f1 == pytest.approx(40 / 55)
    assert no.f1 == pytest.approx(30 / 45)
    # With two labels, presence of one is the whole scheme: same kappa.
    assert yes.kappa == pytest.approx(0.4)
    assert no.kappa == pytest.approx(0.4)


def test_cohen_textbook_in_pairwise_and_fast_statistic() -> None:
    units = [f"p{i}" for i in range(50)]
    pair = pairwise_cohen(
        {"A": dict(zip(units, COHEN_A, strict=True)), "B": dict(zip(units, COHEN_B, strict=True))}
    )
    assert [(p.coder_a, p.coder_b, p.n) for p in pair.pairs] == [("A", "B", 50)]
    assert pair.mean == pair.min == pair.max == pytest.approx(0.4)
    statistic = cohen_kappa_statistic(COHEN_A, COHEN_B)
    assert statistic(np.arange(50)) == pytest.approx(0.4, abs=1e-12)


def test_fleiss_textbook_kappa_is_0_210() -> None:
    result = fleiss(fleiss_labels_by_coder())
    assert result.kappa == pytest.approx(0.20993, abs=5e-5)
    assert (result.n_units, result.n_coders, result.n_units_dropped) == (10, 14, 0)
    assert result.categories == ("1", "2", "3", "4", "5")


def test_krippendorff_textbook_alpha_is_0_743() -> None:
    alpha = krippendorff_alpha_masi(as_singletons(krippendorff_labels()))
    assert alpha == pytest.approx(0.743, abs=5e-4)
    # With singleton sets MASI is the nominal distance: nltk's own nominal alpha must agree.
    triples = [
        (c, u, v) for c, by_unit in krippendorff_labels().items() for u, v in by_unit.items()
    ]
    assert alpha == pytest.approx(AnnotationTask(data=triples).alpha(), abs=1e-12)


def test_krippendorff_alpha_ignores_unpairable_units() -> None:
    codings = as_singletons(krippendorff_labels())
    codings["E"] = {"only-e": frozenset({"9"})}
    assert krippendorff_alpha_masi(codings) == pytest.approx(0.743, abs=5e-4)


# --- multi-label ----------------------------------------------------------------------------

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


# --- human-human ----------------------------------------------------------------------------


def test_pairwise_cohen_uses_shared_units_per_pair() -> None:
    labels = krippendorff_labels()
    result = pairwise_cohen(labels)
    pairs = {(p.coder_a, p.coder_b): p for p in result.pairs}
    assert list(pairs) == [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")]
    shared = sorted(set(labels["A"]) & set(labels["C"]))
    assert pairs[("A", "C")].n == len(shared) == 8
    expected = cohen_kappa_score([labels["A"][u] for u in shared], [labels["C"][u] for u in shared])
    assert pairs[("A", "C")].kappa == pytest.approx(expected, abs=1e-12)
    kappas = [p.kappa for p in result.pairs if p.kappa is not None]
    assert result.mean == pytest.approx(float(np.mean(kappas)))
    assert (result.min, result.max) == (min(kappas), max(kappas))


def test_pairwise_cohen_pair_without_shared_units() -> None:
    result = pairwise_cohen({"a": {"1": "x", "2": "y"}, "b": {"1": "x", "2": "y"}, "c": {"9": "x"}})
    by_pair = {(p.coder_a, p.coder_b): p for p in result.pairs}
    assert by_pair[("a", "c")].n == 0
    assert by_pair[("a", "c")].kappa is None
    assert result.mean == result.min == result.max == pytest.approx(1.0)


def test_fleiss_uses_units_coded_by_all_coders() -> None:
    labels = krippendorff_labels()
    result = fleiss(labels)
    # u01..u08 are coded by all four; C skipped u00, A skipped u09..u11.
    assert (result.n_units, result.n_units_dropped, result.n_coders) == (8, 4, 4)
    assert result.kappa is not None
    assert 0.0 < result.kappa < 1.0


def test_fleiss_single_category_is_undefined() -> None:
    result = fleiss({"a": {"1": "x", "2": "x"}, "b": {"1": "x", "2": "x"}})
    assert result.kappa is None


def test_fleiss_and_pairwise_need_two_coders() -> None:
    with pytest.raises(InputError, match="at least two coders"):
        fleiss({"a": {"1": "x"}})
    with pytest.raises(InputError, match="at least two coders"):
        pairwise_cohen({"a": {"1": "x"}})
    with pytest.raises(InputError, match="coded by all 2 coders"):
        fleiss({"a": {"1": "x"}, "b": {"2": "x"}})


# --- properties -----------------------------------------------------------------------------

LABEL_ALPHABET = ("a", "b", "c", "d")


@st.composite
def two_codings(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    n = draw(st.integers(min_value=1, max_value=40))
    label = st.sampled_from(LABEL_ALPHABET)
    return draw(st.lists(label, min_size=n, max_size=n)), draw(
        st.lists(label, min_size=n, max_size=n)
    )


@st.composite
def two_set_codings(draw: st.DrawFn) -> tuple[list[frozenset[str]], list[frozenset[str]]]:
    n = draw(st.integers(min_value=1, max_value=30))
    code_set = st.frozensets(st.sampled_from(LABEL_ALPHABET), max_size=3)
    first = draw(st.lists(code_set, min_size=n, max_size=n))
    return first, draw(st.lists(code_set, min_size=n, max_size=n))


def renaming(draw_permutation: Sequence[str]) -> dict[str, str]:
    return dict(zip(LABEL_ALPHABET, draw_permutation, strict=True))


def assert_same(first: float | None, second: float | None) -> None:
    if first is None or second is None:
        assert first is second is None
    else:
        assert first == pytest.approx(second, abs=1e-9)


@settings(deadline=None, max_examples=60)
@given(codings=two_codings())
def test_exclusive_kappa_is_one_on_identical_codings(codings: tuple[list[str], list[str]]) -> None:
    truth, _ = codings
    result = exclusive_agreement(truth, truth)
    if len(set(truth)) > 1:
        assert result.kappa == pytest.approx(1.0)
    else:
        assert result.kappa is None
    assert result.accuracy == 1.0
    assert result.macro_f1 == pytest.approx(1.0)


@settings(deadline=None, max_examples=40)
@given(codings=two_codings(), permutation=st.permutations(LABEL_ALPHABET))
def test_exclusive_kappa_symmetric_and_rename_invariant(
    codings: tuple[list[str], list[str]], permutation: list[str]
) -> None:
    truth, predicted = codings
    kappa = exclusive_agreement(truth, predicted).kappa
    assert_same(kappa, exclusive_agreement(predicted, truth).kappa)
    rename = renaming(permutation)
    renamed = exclusive_agreement([rename[x] for x in truth], [rename[x] for x in predicted])
    assert_same(kappa, renamed.kappa)


@settings(deadline=None, max_examples=40)
@given(codings=two_set_codings())
def test_multilabel_kappas_and_alpha_are_one_on_identical_codings(
    codings: tuple[list[frozenset[str]], list[frozenset[str]]],
) -> None:
    truth, _ = codings
    result = multilabel_agreement(truth, truth, LABEL_ALPHABET)
    for code_result in result.per_code:
        varies = 0 < code_result.n_true < len(truth)
        assert code_result.kappa == (pytest.approx(1.0) if varies else None)
    decisions = len(truth) * len(LABEL_ALPHABET)
    pooled_varies = 0 < sum(len(codes) for codes in truth) < decisions
    assert result.pooled_kappa == (pytest.approx(1.0) if pooled_varies else None)
    assert result.alpha_masi == (pytest.approx(1.0) if len(set(truth)) > 1 else None)


@settings(deadline=None, max_examples=40)
@given(codings=two_set_codings(), permutation=st.permutations(LABEL_ALPHABET))
def test_multilabel_symmetric_and_rename_invariant(
    codings: tuple[list[frozenset[str]], list[frozenset[str]]], permutation: list[str]
) -> None:
    truth, predicted = codings
    result = multilabel_agreement(truth, predicted, LABEL_ALPHABET)
    swapped = multilabel_agreement(predicted, truth, LABEL_ALPHABET)
    rename = renaming(permutation)
    renamed = multilabel_agreement(
        [frozenset(rename[c] for c in s) for s in truth],
        [frozenset(rename[c] for c in s) for s in predicted],
        [rename[c] for c in LABEL_ALPHABET],
    )
    for other in (swapped, renamed):
        assert_same(result.pooled_kappa, other.pooled_kappa)
        assert_same(result.mean_kappa, other.mean_kappa)
        assert_same(result.alpha_masi, other.alpha_masi)
        for mine, theirs in zip(result.per_code, other.per_code, strict=True):
            assert_same(mine.kappa, theirs.kappa)


@settings(deadline=None, max_examples=40)
@given(codings=two_set_codings())
def test_alpha_masi_symmetric_in_coders(
    codings: tuple[list[frozenset[str]], list[frozenset[str]]],
) -> None:
    first = {str(i): codes for i, codes in enumerate(codings[0])}
    second = {str(i): codes for i, codes in enumerate(codings[1])}
    assert_same(
        krippendorff_alpha_masi({"x": first, "y": second}),
        krippendorff_alpha_masi({"y": second, "x": first}),
    )


# --- edge cases -----------------------------------------------------------------------------


def test_empty_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least one coded unit"):
        exclusive_agreement([], [])
    with pytest.raises(InputError, match="at least one coded unit"):
        multilabel_agreement([], [], ["a"])
    with pytest.raises(InputError, match="at least one code id"):
        multilabel_agreement([frozenset()], [frozenset()], [])
    with pytest.raises(InputError, match="coded by two coders"):
        krippendorff_alpha_masi({})
    with pytest.raises(InputError, match="at least one row"):
        bootstrap_ci(lambda rows: 0.0, [])


def test_mismatched_lengths_say_expected_found_fix() -> None:
    with pytest.raises(InputError) as caught:
        exclusive_agreement(["a", "b"], ["a"])
    message = str(caught.value)
    assert "expected truth and predicted of equal length" in message
    assert "found 2 truth and 1 predicted" in message
    assert "fix:" in message
    with pytest.raises(InputError, match="found 1 truth and 2 predicted"):
        multilabel_agreement([frozenset()], [frozenset(), frozenset()], ["a"])
    with pytest.raises(InputError, match="equal length"):
        cohen_kappa_statistic(["a"], [])


def test_bad_labels_and_codes_are_input_errors() -> None:
    with pytest.raises(InputError, match="unlisted: 'z'"):
        exclusive_agreement(["a", "z"], ["a", "a"], labels=["a"])
    with pytest.raises(InputError, match="to be a string"):
        exclusive_agreement(["a", None], ["a", "a"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="repeated: 'a'"):
        exclusive_agreement(["a"], ["a"], labels=["a", "a"])
    with pytest.raises(InputError, match="unknown: 'q'"):
        multilabel_agreement([frozenset({"q"})], [frozenset()], ["a"])
    with pytest.raises(InputError, match="set of codes"):
        krippendorff_alpha_masi({"x": {"1": "ab"}, "y": {"1": "ab"}})  # type: ignore[dict-item]


def test_exclusive_undefined_kappa_and_per_label_nones() -> None:
    result = exclusive_agreement(["a", "a"], ["a", "a"], labels=["a", "b"])
    assert result.kappa is None
    assert result.accuracy == 1.0
    assert result.macro_f1 == 1.0
    a, b = result.per_label
    assert a.kappa is None
    assert a.f1 == 1.0
    assert b == type(b)(label="b", support=0, precision=None, recall=None, f1=None, kappa=None)


def test_exclusive_no_code_is_appended_and_macro_f1_skips_unused_labels() -> None:
    truth = ["a", "a", "b", "b"]
    predicted = ["a", NO_CODE, "b", "b"]
    result = exclusive_agreement(truth, predicted, labels=["a", "b", "c"])
    assert result.labels == ("a", "b", "c", NO_CODE)
    assert result.confusion[0] == (1, 0, 0, 1)
    # F1: a = 2/3, b = 1, (no code) = 0; unused "c" is not averaged in.
    assert result.macro_f1 == pytest.approx((2 / 3 + 1 + 0) / 3)
    no_code = result.per_label[3]
    assert (no_code.support, no_code.precision, no_code.recall) == (0, 0.0, None)


# --- bootstrap ------------------------------------------------------------------------------


def test_bootstrap_resamples_whole_groups() -> None:
    groups = ["t1"] * 3 + ["t2"] * 2 + ["t3"] * 4
    seen: list[np.ndarray] = []

    def record(rows: np.ndarray) -> float:
        seen.append(np.sort(rows))
        return float(len(rows))

    bootstrap_ci(record, groups, n_resamples=50)
    members = {"t1": {0, 1, 2}, "t2": {3, 4}, "t3": {5, 6, 7, 8}}
    for rows in seen[:-1]:
        counts = {name: sum(int(r) in idx for r in rows) for name, idx in members.items()}
        draws = {name: counts[name] // len(idx) for name, idx in members.items()}
        assert all(counts[name] % len(idx) == 0 for name, idx in members.items())
        assert sum(draws.values()) == 3
    assert list(seen[-1]) == list(range(9))


def test_bootstrap_drops_and_counts_undefined_resamples() -> None:
    groups = [f"t{i}" for i in range(6) for _ in range(2)]
    undefined = 0

    def needs_first_group(rows: np.ndarray) -> float | None:
        nonlocal undefined
        if 0 in rows:
            return float(len(rows))
        undefined += 1
        return None if undefined % 2 else math.nan

    interval = bootstrap_ci(needs_first_group, groups, n_resamples=200, seed=3)
    assert interval.n_dropped == undefined
    assert 0 < undefined < 200
    assert interval.estimate == 12.0
    assert interval.n_resamples == 200
    never = bootstrap_ci(lambda rows: math.nan, groups, n_resamples=20)
    assert (never.low, never.high, never.estimate, never.n_dropped) == (None, None, None, 20)


def test_bootstrap_argument_checks() -> None:
    with pytest.raises(InputError, match="at least two groups"):
        bootstrap_ci(lambda rows: 0.0, ["t1", "t1"])
    with pytest.raises(InputError, match="n_resamples"):
        bootstrap_ci(lambda rows: 0.0, ["t1", "t2"], n_resamples=0)
    with pytest.raises(InputError, match="confidence"):
        bootstrap_ci(lambda rows: 0.0, ["t1", "t2"], confidence=1.0)


@settings(deadline=None, max_examples=50)
@given(
    group_means=st.lists(st.floats(0, 1), min_size=3, max_size=8),
    rows_per_group=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_bootstrap_interval_contains_estimate_and_is_reproducible(
    group_means: list[float], rows_per_group: int, seed: int
) -> None:
    values = np.repeat(group_means, rows_per_group) + np.tile(
        np.linspace(0, 0.1, rows_per_group), len(group_means)
    )
    groups = [f"t{i}" for i in range(len(group_means)) for _ in range(rows_per_group)]

    def mean(rows: np.ndarray) -> float:
        return float(values[rows].mean())

    interval = bootstrap_ci(mean, groups, n_resamples=200, seed=seed)
    assert interval.estimate is not None
    assert interval.estimate == pytest.approx(float(values.mean()))
    assert interval.low is not None
    assert interval.high is not None
    assert interval.low - 1e-9 <= interval.estimate <= interval.high + 1e-9
    assert bootstrap_ci(mean, groups, n_resamples=200, seed=seed) == interval


def test_bootstrap_kappa_1000_resamples_of_5000_rows_is_fast() -> None:
    generator = np.random.default_rng(0)
    truth = [str(x) for x in generator.integers(0, 6, 5000)]
    predicted = [t if generator.random() < 0.7 else str(generator.integers(0, 6)) for t in truth]
    groups = [f"t{i // 100}" for i in range(5000)]
    started = time.perf_counter()
    interval = bootstrap_ci(cohen_kappa_statistic(truth, predicted), groups, seed=1)
    elapsed = time.perf_counter() - started
    # Generous bound (about 20x what a laptop takes) so only a real slowdown fails it.
    assert elapsed < 10.0
    expected = cohen_kappa_score(truth, predicted)
    assert interval.estimate == pytest.approx(expected, abs=1e-12)
    assert interval.low is not None
    assert interval.high is not None
    assert interval.low < expected < interval.high
    assert interval.high - interval.low < 0.1
    other_seed = bootstrap_ci(cohen_kappa_statistic(truth, predicted), groups, seed=2)
    assert (other_seed.low, other_seed.high) != (interval.low, interval.high)
