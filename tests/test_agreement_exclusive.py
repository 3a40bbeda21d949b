"""Exclusive (single-label) agreement: Cohen's textbook example, undefined kappa, no-code label."""

from __future__ import annotations

import numpy as np
import pytest

from eval.agreement import NO_CODE, cohen_kappa_statistic, exclusive_agreement, pairwise_cohen

# --- textbook data --------------------------------------------------------------------------

# Cohen's example as on Wikipedia: 50 proposals, A and B say Yes/No.
COHEN_PAIRS = (
    [("Yes", "Yes")] * 20 + [("Yes", "No")] * 5 + [("No", "Yes")] * 10 + [("No", "No")] * 15
)
COHEN_A = [a for a, _ in COHEN_PAIRS]
COHEN_B = [b for _, b in COHEN_PAIRS]


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
