"""Input checks and the undefined-kappa rule shared by the ``eval.agreement_*`` modules.

Undefined kappa: Cohen's kappa is (p_o - p_e) / (1 - p_e). When both raters give one and the same
category to every unit, p_e = 1 and kappa is 0/0. sklearn returns nan there; these modules report
``None`` instead (and leave it out of any mean), because 1.0 would claim a reliability the data
cannot show, and nan silently poisons sums in reports. The same rule covers Fleiss' kappa and
Krippendorff's alpha when the pooled ratings hold a single value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

from codebook.errors import InputError

#: The label for a unit the machine (or a coder) left without a code; callers map empty sets to it.
NO_CODE = "(no code)"


def require_nonempty(count: int, what: str) -> None:
    """Agreement on zero units is meaningless; say so instead of returning nan."""
    if count == 0:
        raise InputError(
            f"expected at least one {what}; found none; fix: pass the coded units to compare"
        )


def require_same_length(truth_count: int, predicted_count: int) -> None:
    """Truth and prediction must describe the same units, one entry each, in the same order."""
    if truth_count != predicted_count:
        raise InputError(
            f"expected truth and predicted of equal length (one entry per unit); found "
            f"{truth_count} truth and {predicted_count} predicted entries; fix: align both "
            "on the same units in the same order"
        )


def require_unique(names: Sequence[str], what: str) -> None:
    """A repeated label or code would get two rows in the results and split its counts."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(
            f"expected each {what} once; found repeated: {', '.join(map(repr, repeated))}; "
            f"fix: list each {what} once"
        )


def require_strings(values: Sequence[object], what: str) -> None:
    """A pandas NaN or None among the labels would make sklearn fail with a vague type error."""
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise InputError(
                f"expected every {what} label to be a string; found {value!r} "
                f"({type(value).__name__}) at position {index}; fix: map missing codes to "
                f"{NO_CODE!r}"
            )


def require_known_codes(
    code_sets: Iterable[frozenset[str]], code_ids: Sequence[str], what: str
) -> None:
    """A code outside the codebook would otherwise be dropped without a word."""
    known = set(code_ids)
    unknown = sorted({code for codes in code_sets for code in codes} - known)
    if unknown:
        raise InputError(
            f"expected {what} codes among the codebook's code_ids; found unknown: "
            f"{', '.join(map(repr, unknown[:20]))}; fix: add them to code_ids or recode"
        )


def nan_to_none(value: float) -> float | None:
    """Library results mark 'undefined' with nan; the result dataclasses use None."""
    return None if math.isnan(value) else float(value)


def kappa_or_none(
    first: Sequence[Hashable] | np.ndarray, second: Sequence[Hashable] | np.ndarray
) -> float | None:
    """Cohen's kappa by sklearn, or None when undefined (both raters constant and equal)."""
    with warnings.catch_warnings():
        # Both warnings announce exactly the undefined case that None reports.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="A single label was found", category=UserWarning)
        value: Any = cohen_kappa_score(first, second, replace_undefined_by=np.nan)
    return nan_to_none(float(value))


def mean_of_defined(values: Iterable[float | None]) -> float | None:
    """Mean over the defined values; None when there is none to average."""
    defined = [value for value in values if value is not None]
    return float(np.mean(defined)) if defined else None
