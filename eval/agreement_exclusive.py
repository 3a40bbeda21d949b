"""Machine-vs-human agreement for single-label (mutually exclusive) coding schemes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from codebook.errors import InputError
from eval.agreement_common import (
    NO_CODE,
    kappa_or_none,
    nan_to_none,
    require_nonempty,
    require_same_length,
    require_strings,
    require_unique,
)


@dataclass(frozen=True)
class LabelAgreement:
    """One label treated as present-vs-absent; None where the value is 0/0.

    ``precision`` is None when the label was never predicted, ``recall`` when it never occurs in
    truth, ``f1`` and ``kappa`` when it occurs in neither.
    """

    label: str
    support: int
    precision: float | None
    recall: float | None
    f1: float | None
    kappa: float | None


@dataclass(frozen=True)
class ExclusiveAgreement:
    """Agreement of one predicted label per unit with one true label per unit.

    ``kappa`` is None when undefined (every unit has the same label in truth and prediction).
    ``macro_f1`` averages over the labels present in truth or prediction only, so listing unused
    codebook labels does not drag it down. ``confusion`` rows are truth and columns predicted,
    both in ``labels`` order.
    """

    n: int
    kappa: float | None
    accuracy: float
    macro_f1: float
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    per_label: tuple[LabelAgreement, ...]


def exclusive_agreement(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> ExclusiveAgreement:
    """Cohen's kappa, accuracy, macro F1, confusion matrix and per-label figures.

    ``labels`` fixes the order (and may add labels nobody used); by default it is every label in
    truth or prediction, sorted. ``NO_CODE`` is appended when the data use it and ``labels`` does
    not list it, since callers pass codebook ids and map uncoded units to it.
    """
    require_same_length(len(truth), len(predicted))
    require_nonempty(len(truth), "coded unit")
    require_strings(truth, "truth")
    require_strings(predicted, "predicted")
    ordered = _label_order(truth, predicted, labels)
    truth_list, predicted_list = list(truth), list(predicted)
    return ExclusiveAgreement(
        n=len(truth_list),
        kappa=kappa_or_none(truth_list, predicted_list),
        accuracy=float(accuracy_score(truth_list, predicted_list)),
        macro_f1=_macro_f1_over_used(truth_list, predicted_list),
        labels=ordered,
        confusion=_confusion(truth_list, predicted_list, ordered),
        per_label=_per_label(truth_list, predicted_list, ordered),
    )


def _label_order(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None
) -> tuple[str, ...]:
    used = set(truth) | set(predicted)
    if labels is None:
        return tuple(sorted(used))
    require_unique(list(labels), "label")
    ordered = list(labels)
    if NO_CODE in used and NO_CODE not in ordered:
        ordered.append(NO_CODE)
    unknown = sorted(used - set(ordered))
    if unknown:
        raise InputError(
            f"expected truth and predicted labels among labels; found unlisted: "
            f"{', '.join(map(repr, unknown[:20]))}; fix: add them to labels or pass labels=None"
        )
    return tuple(ordered)


def _macro_f1_over_used(truth: list[str], predicted: list[str]) -> float:
    used = sorted(set(truth) | set(predicted))
    # zero_division never triggers for a used label: 2tp + fp + fn > 0 for each of them.
    value: Any = f1_score(truth, predicted, labels=used, average="macro", zero_division=0)
    return float(value)


def _confusion(
    truth: list[str], predicted: list[str], ordered: tuple[str, ...]
) -> tuple[tuple[int, ...], ...]:
    with warnings.catch_warnings():
        # sklearn warns on any 1 x 1 matrix, even with labels given; one label is a 1 x 1 scheme.
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        matrix = confusion_matrix(truth, predicted, labels=list(ordered))
    return tuple(tuple(int(count) for count in row) for row in matrix)


def _per_label(
    truth: list[str], predicted: list[str], ordered: tuple[str, ...]
) -> tuple[LabelAgreement, ...]:
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(ordered), average=None, zero_division=np.nan
    )
    truth_array = np.asarray(truth, dtype=object)
    predicted_array = np.asarray(predicted, dtype=object)
    return tuple(
        LabelAgreement(
            label=label,
            support=int(support[index]),
            precision=nan_to_none(float(precision[index])),
            recall=nan_to_none(float(recall[index])),
            f1=nan_to_none(float(f1[index])),
            kappa=kappa_or_none(truth_array == label, predicted_array == label),
        )
        for index, label in enumerate(ordered)
    )
