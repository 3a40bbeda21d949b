"""Trust verdicts: fixed in advance from a code's kappa and its interval (eval.trust)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval.report_model import CodeRow, Interval
from eval.trust import code_verdict, trust_verdicts


def _row(kappa: float | None, low: float | None, n_true: int = 50) -> CodeRow:
    interval = None if low is None else Interval(low=low, high=1.0, n_resamples=200)
    return CodeRow(
        code="A", name="a", prevalence=0.1, n_true=n_true, n_predicted=40, kappa=kappa,
        kappa_ci=interval,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kappa", "low", "n_true", "verdict"),
    [
        (0.80, 0.65, 50, "trust"),
        (0.80, 0.60, 50, "review"),  # high kappa, but the interval reaches below 0.61
        (0.80, None, 50, "review"),  # no interval: never trusted on a point estimate
        (0.41, 0.20, 50, "review"),
        (0.40, 0.20, 50, "code by hand"),
        (0.95, 0.90, 9, "too few examples"),
        (None, None, 50, "too few examples"),
    ],
)
def test_verdicts(kappa: float | None, low: float | None, n_true: int, verdict: str) -> None:
    assert code_verdict(_row(kappa, low, n_true)) == verdict


@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1))
def test_more_agreement_never_lowers_the_verdict(kappa: float, low: float, more: float) -> None:
    order = ["code by hand", "review", "trust"]
    low = min(low, kappa)
    better_kappa, better_low = max(kappa, more), max(low, min(more, max(kappa, more)))
    assert order.index(code_verdict(_row(better_kappa, better_low))) >= order.index(
        code_verdict(_row(kappa, low))
    )


def test_verdicts_of_a_method_not_evaluated_are_none() -> None:
    from eval.report_model import MethodResult, Report

    result = MethodResult.model_construct(method="knn", per_code=[_row(0.9, 0.8)])
    report = Report.model_construct(methods=[result])
    assert trust_verdicts(report, "knn") == {"A": "trust"}
    assert trust_verdicts(report, "linear") is None
