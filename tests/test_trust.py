"""Trust verdicts (eval.trust): the rule at its thresholds, fixed in advance from a code's kappa,
its interval and the evaluation's human level; the words; a verdict for every code."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval.report_model import CodeRow, HumanReference, Interval, MethodResult, Report
from eval.trust import (
    DEFAULT_HUMAN_KAPPA,
    HEADLINES,
    MIN_HUMAN_UNITS,
    SUGGEST_KAPPA,
    TRUST_KINDS,
    HumanLevel,
    code_verdict,
    human_level,
    rule_text,
    trust_verdicts,
    verdict_counts,
    verdicts_for,
    with_verdicts,
)

DEFAULT = human_level(None)
ORDER = ["code_by_hand", "suggest_only", "machine_alone"]


def _row(kappa: float | None, low: float | None, n_true: int = 50, code: str = "A") -> CodeRow:
    interval = None if low is None else Interval(low=low, high=1.0, n_resamples=200)
    return CodeRow(
        code=code, name="a", prevalence=0.1, n_true=n_true, n_predicted=40, kappa=kappa,
        kappa_ci=interval,
    )  # fmt: skip


def _reference(kappa: float) -> HumanReference:
    return HumanReference(kappa=kappa, source="two coders")


@pytest.mark.parametrize(
    ("kappa", "low", "n_true", "kind"),
    [
        (0.80, DEFAULT_HUMAN_KAPPA, 50, "machine_alone"),  # the low end just reaches 0.61
        (0.80, 0.6099, 50, "suggest_only"),  # high kappa, but the interval reaches below
        (0.80, None, 50, "suggest_only"),  # no interval: never alone on a point estimate
        (SUGGEST_KAPPA, 0.20, 50, "suggest_only"),
        (0.4099, 0.20, 50, "code_by_hand"),
        (None, None, 50, "code_by_hand"),  # agreement could not be measured
        (0.95, 0.90, MIN_HUMAN_UNITS - 1, "too_few_examples"),
        (0.95, 0.90, MIN_HUMAN_UNITS, "machine_alone"),
    ],
)
def test_verdicts_at_the_thresholds(
    kappa: float | None, low: float | None, n_true: int, kind: str
) -> None:
    assert code_verdict(_row(kappa, low, n_true), DEFAULT).kind == kind


def test_the_human_level_is_the_reports_reference_when_it_has_one() -> None:
    level = human_level(_reference(0.74))
    assert level.kappa == 0.74
    assert code_verdict(_row(0.85, 0.74), level).kind == "machine_alone"
    assert code_verdict(_row(0.85, 0.73), level).kind == "suggest_only"  # 0.61 is not enough
    assert "0.74" in code_verdict(_row(0.85, 0.73), level).says


def test_a_low_human_reference_is_floored_at_the_suggestion_threshold() -> None:
    level = human_level(_reference(0.30))
    assert level.kappa == SUGGEST_KAPPA
    assert "0.30" in level.source
    assert code_verdict(_row(0.5, SUGGEST_KAPPA), level).kind == "machine_alone"
    assert code_verdict(_row(0.5, 0.35), level).kind == "suggest_only"


@given(st.integers(0, MIN_HUMAN_UNITS - 1))
def test_too_few_examples_says_how_many_more_reach_the_floor(n_true: int) -> None:
    verdict = code_verdict(_row(0.9, 0.8, n_true), DEFAULT)
    assert verdict.kind == "too_few_examples"
    assert verdict.more_needed == MIN_HUMAN_UNITS - n_true
    assert verdict.says.startswith(f"too few examples: code {MIN_HUMAN_UNITS - n_true} more")
    assert f"a verdict needs {MIN_HUMAN_UNITS}" in verdict.says


@given(st.integers(MIN_HUMAN_UNITS, 10_000), st.floats(-1, 1), st.floats(-1, 1))
def test_other_verdicts_need_no_more_units(n_true: int, kappa: float, low: float) -> None:
    assert code_verdict(_row(kappa, min(low, kappa), n_true), DEFAULT).more_needed is None


levels = st.floats(SUGGEST_KAPPA, 1).map(lambda kappa: HumanLevel(kappa, "test"))


@given(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1), levels)
def test_more_agreement_never_lowers_the_verdict(
    kappa: float, low: float, more: float, level: HumanLevel
) -> None:
    low = min(low, kappa)
    better_kappa, better_low = max(kappa, more), max(low, min(more, max(kappa, more)))
    assert ORDER.index(code_verdict(_row(better_kappa, better_low), level).kind) >= ORDER.index(
        code_verdict(_row(kappa, low), level).kind
    )


@given(st.floats(-1, 1), st.floats(-1, 1), levels)
def test_a_higher_human_level_never_raises_the_verdict(
    kappa: float, low: float, level: HumanLevel
) -> None:
    row = _row(kappa, min(low, kappa))
    higher = HumanLevel(min(1.0, level.kappa + 0.1), "higher")
    assert ORDER.index(code_verdict(row, higher).kind) <= ORDER.index(code_verdict(row, level).kind)


@given(st.floats(-1, 1), st.one_of(st.none(), st.floats(-1, 1)), st.integers(0, 100))
def test_every_sentence_opens_with_its_headline_and_states_its_threshold(
    kappa: float, low: float | None, n_true: int
) -> None:
    verdict = code_verdict(_row(kappa, None if low is None else min(low, kappa), n_true), DEFAULT)
    assert verdict.says.startswith(HEADLINES[verdict.kind] + ": ")
    threshold = {
        "machine_alone": f"{DEFAULT_HUMAN_KAPPA:.2f}",
        "suggest_only": f"{DEFAULT_HUMAN_KAPPA:.2f}",
        "code_by_hand": f"{SUGGEST_KAPPA:.2f}",
        "too_few_examples": str(MIN_HUMAN_UNITS),
    }[verdict.kind]
    assert threshold in verdict.says


def test_the_words() -> None:
    assert code_verdict(_row(0.8, 0.7), DEFAULT).says == (
        "machine can code this alone at >= human level: kappa 0.80, and the low end of its "
        "95% interval (0.70 to 1.00) reaches the human level 0.61 (no human agreement in this "
        "evaluation, so 0.61, 'substantial' on Landis and Koch's scale)"
    )
    assert code_verdict(_row(0.3, 0.1), DEFAULT).says == (
        "code by hand: kappa 0.30 is under 0.41 (moderate agreement), the least for "
        "suggestions worth checking"
    )
    assert code_verdict(_row(0.9, 0.8, n_true=1), DEFAULT).says == (
        "too few examples: code 9 more (the evaluation had 1 human-coded unit with it; a "
        "verdict needs 10)"
    )
    rule = rule_text(DEFAULT)
    assert "0.61" in rule
    assert "0.41" in rule
    assert f"fewer than {MIN_HUMAN_UNITS} units" in rule


def _report(method: str, rows: list[CodeRow], reference: HumanReference | None = None) -> Report:
    result = MethodResult.model_construct(method=method, per_code=rows)
    return Report.model_construct(methods=[result], human_reference=reference)


def test_verdicts_of_a_method_not_evaluated_are_none() -> None:
    report = _report("knn", [_row(0.9, 0.8)])
    verdicts = trust_verdicts(report, "knn")
    assert verdicts is not None
    assert verdicts["A"].kind == "machine_alone"
    assert trust_verdicts(report, "linear") is None


def test_verdicts_read_the_reports_human_reference() -> None:
    report = _report("linear", [_row(0.9, 0.75)], _reference(0.8))
    verdicts = trust_verdicts(report, "linear")
    assert verdicts is not None
    assert verdicts["A"].kind == "suggest_only"


def test_every_code_gets_a_verdict_evaluated_or_not() -> None:
    report = _report("linear", [_row(0.9, 0.8, code="A"), _row(0.2, 0.1, code="B")])
    codes = ("A", "B", "C")
    for chosen, method in ((report, "linear"), (report, "knn"), (None, "linear")):
        assert list(verdicts_for(chosen, method, codes)) == list(codes)
    kinds = {code: v.kind for code, v in verdicts_for(report, "linear", codes).items()}
    assert kinds == {"A": "machine_alone", "B": "code_by_hand", "C": "not_evaluated"}
    unevaluated = verdicts_for(None, "linear", codes)
    assert {verdict.kind for verdict in unevaluated.values()} == {"not_evaluated"}
    assert "'linear'" in unevaluated["A"].says


def test_counts_name_every_verdict() -> None:
    counts = verdict_counts(["suggest_only", "suggest_only", "not_evaluated"])
    assert list(counts) == list(TRUST_KINDS)
    assert counts["suggest_only"] == 2
    assert counts["not_evaluated"] == 1
    assert sum(counts.values()) == 3


def test_the_harness_writes_each_rows_verdict() -> None:
    rows = with_verdicts([_row(0.9, 0.8), _row(0.5, 0.3, code="B")], _reference(0.85))
    assert [row.trust.kind for row in rows if row.trust] == ["suggest_only", "suggest_only"]


@given(
    st.floats(-1, 1),
    st.floats(-1, 1),
    st.floats(SUGGEST_KAPPA, 1).map(lambda k: HumanLevel(k, "x")),
)
def test_the_figures_in_a_sentence_never_contradict_it(
    kappa: float, low: float, level: HumanLevel
) -> None:
    """Rounded for reading, a value said to be under a bar still reads as under it."""
    says = code_verdict(_row(kappa, min(low, kappa)), level).says
    figures = [float(text) for text in re.findall(r"-?\d+\.\d+", says)]
    if says.startswith("code by hand"):
        assert figures[0] < figures[1]  # "kappa K is under 0.41"
    elif says.startswith("suggest only"):
        kappa_shown, bar, start, human = figures[:4]
        assert kappa_shown >= bar
        assert start < human  # "its interval starts at L, under the human level H"
    else:  # "kappa K, and the low end (L to H) reaches the human level B"
        assert figures[1] >= figures[3]
