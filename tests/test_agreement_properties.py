"""Agreement statistics' properties: perfect on identical codings, symmetric, rename-invariant."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eval.agreement import exclusive_agreement, krippendorff_alpha_masi, multilabel_agreement

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
