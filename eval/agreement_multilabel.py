"""Agreement for codebooks where a unit may carry several codes or none.

Krippendorff's alpha comes from nltk's ``AnnotationTask`` with MASI distance on code sets.
nltk's ``alpha`` is right on Krippendorff's (2011) textbook example, but it needs guarding:
``masi_distance`` divides by zero on two empty sets (and alpha compares every label with
itself, so one empty set among the data is enough to crash it); with no unit coded by two
coders it divides by zero too; and with a single value across the data it returns the int 1
where alpha is 0/0. The wrapper here handles all three (see ``krippendorff_alpha_masi``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from nltk.metrics.agreement import AnnotationTask
from nltk.metrics.distance import masi_distance
from sklearn.metrics import f1_score

from codebook.errors import InputError
from eval.agreement_common import (
    NO_CODE,
    kappa_or_none,
    mean_of_defined,
    require_known_codes,
    require_nonempty,
    require_same_length,
    require_unique,
)


@dataclass(frozen=True)
class CodeAgreement:
    """One code as present-vs-absent per unit.

    ``kappa`` is None when undefined: truth and prediction agree on every unit and never vary,
    i.e. the code is absent from both everywhere (or present in both everywhere).
    Prevalences are shares of units; ``n_both`` counts units where truth and prediction have it.
    """

    code: str
    kappa: float | None
    prevalence_truth: float
    prevalence_predicted: float
    n_true: int
    n_predicted: int
    n_both: int


@dataclass(frozen=True)
class MultiLabelAgreement:
    """Machine-vs-human agreement on code sets.

    ``pooled_kappa`` is Cohen's kappa over all unit x code presence decisions pooled;
    ``mean_kappa`` the mean of the per-code kappas that are defined; ``alpha_masi`` Krippendorff's
    alpha with MASI distance on the two coders' code sets. Each is None when undefined.
    ``no_code`` scores "no code" (an empty code set) like a code, present-vs-absent per unit;
    ``macro_f1`` averages F1 over the codes and "no code", those present in truth or prediction.
    """

    n: int
    per_code: tuple[CodeAgreement, ...]
    pooled_kappa: float | None
    mean_kappa: float | None
    alpha_masi: float | None
    no_code: CodeAgreement
    macro_f1: float | None


def masi_distance_empty_safe(first: frozenset[str], second: frozenset[str]) -> float:
    """nltk's MASI distance, extended so that two empty sets agree (distance 0).

    nltk divides by the size of the union, which is 0 for two empty sets. An empty set against a
    non-empty one already gets distance 1 from nltk (no overlap).
    """
    if not first and not second:
        return 0.0
    return float(masi_distance(first, second))


def krippendorff_alpha_masi(codings: Mapping[str, Mapping[str, frozenset[str]]]) -> float | None:
    """Krippendorff's alpha with MASI distance over coder -> unit -> code set.

    Any number of coders; a coder may skip units. Only pairable units (coded by two coders or
    more) count, as Krippendorff defines it. Returns None when alpha is undefined: the pairable
    units hold one single code set throughout (expected disagreement 0, alpha = 0/0; nltk would
    say 1). Raises ``InputError`` when no unit is pairable.
    """
    _require_code_sets(codings)
    pairable = _pairable_units(codings)
    if not pairable:
        raise InputError(
            "expected at least one unit coded by two coders or more; found none "
            f"among {len(codings)} coder(s); fix: give the coders shared units to code"
        )
    triples = [
        (coder, unit, frozenset(codes))
        for coder, by_unit in codings.items()
        for unit, codes in by_unit.items()
        if unit in pairable
    ]
    if len({codes for _, _, codes in triples}) < 2:
        return None
    task = AnnotationTask(data=triples, distance=masi_distance_empty_safe)
    return float(task.alpha())


def _require_code_sets(codings: Mapping[str, Mapping[str, frozenset[str]]]) -> None:
    # A plain string would pass as an iterable of one-letter codes and give nonsense.
    for coder, by_unit in codings.items():
        for unit, codes in by_unit.items():
            if not isinstance(codes, set | frozenset):
                raise InputError(
                    f"expected a set of codes for each unit; found {type(codes).__name__} "
                    f"{codes!r} for coder {coder!r}, unit {unit!r}; fix: pass frozenset(...)"
                )


def _pairable_units(codings: Mapping[str, Mapping[str, frozenset[str]]]) -> set[str]:
    coder_counts: dict[str, int] = {}
    for by_unit in codings.values():
        for unit in by_unit:
            coder_counts[unit] = coder_counts.get(unit, 0) + 1
    return {unit for unit, count in coder_counts.items() if count >= 2}


def multilabel_agreement(
    truth: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], code_ids: Sequence[str]
) -> MultiLabelAgreement:
    """Per-code kappas, pooled and mean kappa, and MASI alpha for one prediction per unit."""
    require_same_length(len(truth), len(predicted))
    require_nonempty(len(truth), "coded unit")
    require_nonempty(len(code_ids), "code id")
    require_unique(list(code_ids), "code id")
    require_known_codes(truth, code_ids, "truth")
    require_known_codes(predicted, code_ids, "predicted")
    truth_matrix = presence_matrix(truth, code_ids)
    predicted_matrix = presence_matrix(predicted, code_ids)
    per_code = tuple(
        _code_agreement(code, truth_matrix[:, column], predicted_matrix[:, column])
        for column, code in enumerate(code_ids)
    )
    coders = {
        "truth": {str(unit): frozenset(codes) for unit, codes in enumerate(truth)},
        "predicted": {str(unit): frozenset(codes) for unit, codes in enumerate(predicted)},
    }
    truth_none = np.logical_not(truth_matrix.any(axis=1))
    predicted_none = np.logical_not(predicted_matrix.any(axis=1))
    return MultiLabelAgreement(
        n=len(truth),
        per_code=per_code,
        pooled_kappa=kappa_or_none(truth_matrix.ravel(), predicted_matrix.ravel()),
        mean_kappa=mean_of_defined(agreement.kappa for agreement in per_code),
        alpha_masi=krippendorff_alpha_masi(coders),
        no_code=_code_agreement(NO_CODE, truth_none, predicted_none),
        macro_f1=_macro_f1_with_no_code(
            np.column_stack([truth_matrix, truth_none]),
            np.column_stack([predicted_matrix, predicted_none]),
        ),
    )


def _macro_f1_with_no_code(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """Macro F1 over the columns (codes, then "no code") used in truth or prediction."""
    used = np.flatnonzero(truth.any(axis=0) | predicted.any(axis=0))
    if len(used) == 0:
        return None
    value: Any = f1_score(truth[:, used], predicted[:, used], average="macro", zero_division=0)
    return float(value)


def presence_matrix(code_sets: Sequence[frozenset[str]], code_ids: Sequence[str]) -> np.ndarray:
    """Units x codes booleans: does the unit carry the code."""
    return np.array(
        [[code in codes for code in code_ids] for codes in code_sets], dtype=bool
    ).reshape(len(code_sets), len(code_ids))


def _code_agreement(code: str, truth: np.ndarray, predicted: np.ndarray) -> CodeAgreement:
    units = len(truth)
    return CodeAgreement(
        code=code,
        kappa=kappa_or_none(truth, predicted),
        prevalence_truth=float(truth.sum()) / units,
        prevalence_predicted=float(predicted.sum()) / units,
        n_true=int(truth.sum()),
        n_predicted=int(predicted.sum()),
        n_both=int((truth & predicted).sum()),
    )
