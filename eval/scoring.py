"""From cross-validated predictions to the figures of a report.

Single-label schemes (one exclusive category covering every code, each unit carrying at most
one code) are scored as labels, "no code" one of them: Cohen's kappa, accuracy, macro-F1,
confusion. Everything else is scored as code sets: per-code kappa on presence, pooled kappa,
mean kappa, Krippendorff's alpha (MASI), macro-F1 over the codes and "no code". Either way,
where a unit carries no code (in the humans' coding or the machine's), "no code" gets its own
per-code row, scored like any code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from codebook.model import Codebook
from eval.agreement import (
    NO_CODE,
    CodeAgreement,
    bootstrap_ci,
    cohen_kappa_statistic,
    exclusive_agreement,
    multilabel_agreement,
    pooled_kappa_statistic,
)
from eval.report_model import CodeRow, Confusion, CoveragePoint, Interval, SchemeKind

HEADLINE_RESAMPLES = 1000
PER_CODE_RESAMPLES = 300  # per-code intervals cost codes x resamples; 300 keeps 75 codes quick
COVERAGES = tuple(round(x, 2) for x in np.arange(0.1, 1.0001, 0.05))


def scheme_kind(codebook: Codebook, code_sets: Sequence[frozenset[str]]) -> SchemeKind:
    groups = list(codebook.exclusive_groups.values())
    one_group = len(groups) == 1 and set(groups[0]) == set(codebook.codable_ids)
    at_most_one_each = all(len(codes) <= 1 for codes in code_sets)
    return "single-label" if one_group and at_most_one_each else "multi-label"


def as_label(codes: frozenset[str]) -> str:
    return next(iter(codes)) if len(codes) == 1 else NO_CODE


def decided_sets(decided: NDArray[np.bool_], code_ids: tuple[str, ...]) -> list[frozenset[str]]:
    return [frozenset(code_ids[j] for j in np.flatnonzero(row)) for row in decided]


def headline_kappa(
    kind: SchemeKind, code_ids: tuple[str, ...]
) -> Callable[[Sequence[frozenset[str]], Sequence[frozenset[str]]], float | None]:
    """The report's main kappa as a function of (human sets, machine sets)."""

    def kappa(truth: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]]) -> float | None:
        if len(truth) == 0:
            return None
        if kind == "single-label":
            labels = [as_label(codes) for codes in truth]
            return exclusive_agreement(labels, [as_label(codes) for codes in predicted]).kappa
        return multilabel_agreement(truth, predicted, code_ids).pooled_kappa

    return kappa


def headline_interval(
    kind: SchemeKind,
    code_ids: tuple[str, ...],
    truth: Sequence[frozenset[str]],
    predicted: Sequence[frozenset[str]],
    groups: Sequence[str],
) -> Interval:
    if kind == "single-label":
        statistic = cohen_kappa_statistic(
            [as_label(codes) for codes in truth], [as_label(codes) for codes in predicted]
        )
    else:
        statistic = pooled_kappa_statistic(truth, predicted, code_ids)
    return _interval(statistic, groups, HEADLINE_RESAMPLES)


def per_code_rows(
    codebook: Codebook,
    truth: Sequence[frozenset[str]],
    predicted: Sequence[frozenset[str]],
    groups: Sequence[str],
) -> list[CodeRow]:
    code_ids = codebook.codable_ids
    agreement = multilabel_agreement(truth, predicted, code_ids)
    rows = []
    for code in agreement.per_code:
        interval = None
        if code.kappa is not None and len(set(groups)) > 1:
            only = frozenset({code.code})
            statistic = pooled_kappa_statistic(
                [codes & only for codes in truth],
                [codes & only for codes in predicted],
                [code.code],
            )
            interval = _interval(statistic, groups, PER_CODE_RESAMPLES)
        rows.append(_code_row(code, codebook.get(code.code).name, interval))
    no_code = agreement.no_code
    if no_code.n_true or no_code.n_predicted:
        interval = None
        if no_code.kappa is not None:
            interval = _no_code_interval(truth, predicted, groups)
        rows.append(_code_row(no_code, "no code", interval))
    return rows


def _code_row(code: CodeAgreement, name: str, interval: Interval | None) -> CodeRow:
    return CodeRow(
        code=code.code,
        name=name,
        prevalence=code.prevalence_truth,
        n_true=code.n_true,
        n_predicted=code.n_predicted,
        kappa=code.kappa,
        kappa_ci=interval,
    )


def _no_code_interval(
    truth: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], groups: Sequence[str]
) -> Interval | None:
    """The "no code" row's interval: an empty set read as the one code NO_CODE."""
    if len(set(groups)) < 2:
        return None
    statistic = pooled_kappa_statistic(
        [frozenset() if codes else frozenset({NO_CODE}) for codes in truth],
        [frozenset() if codes else frozenset({NO_CODE}) for codes in predicted],
        [NO_CODE],
    )
    return _interval(statistic, groups, PER_CODE_RESAMPLES)


def confusion_of(
    truth: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], code_ids: tuple[str, ...]
) -> Confusion:
    result = exclusive_agreement(
        [as_label(codes) for codes in truth],
        [as_label(codes) for codes in predicted],
        list(code_ids),
    )
    return Confusion(labels=list(result.labels), matrix=[list(row) for row in result.confusion])


def coverage_curve(
    kappa: Callable[[Sequence[frozenset[str]], Sequence[frozenset[str]]], float | None],
    truth: Sequence[frozenset[str]],
    predicted: Sequence[frozenset[str]],
    confidence: NDArray[np.float64],
) -> list[CoveragePoint]:
    """Kappa on the most confident share of units, as the machine abstains on the rest."""
    order = np.argsort(-confidence, kind="stable")
    points = []
    for coverage in COVERAGES:
        count = max(1, round(coverage * len(order)))
        chosen = order[:count]
        value = kappa([truth[i] for i in chosen], [predicted[i] for i in chosen])
        points.append(CoveragePoint(coverage=coverage, n_units=count, kappa=value))
    return points


def coverage_at(points: list[CoveragePoint], reference: float | None) -> float | None:
    """The largest coverage whose kappa reaches the reference (None if none does)."""
    if reference is None:
        return None
    reached = [p.coverage for p in points if p.kappa is not None and p.kappa >= reference]
    return max(reached) if reached else None


def _interval(
    statistic: Callable[[np.ndarray], float | None], groups: Sequence[str], resamples: int
) -> Interval:
    result = bootstrap_ci(statistic, groups, n_resamples=resamples)
    return Interval(low=result.low, high=result.high, n_resamples=result.n_resamples)
