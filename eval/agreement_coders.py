"""Human-human agreement: pairwise Cohen's kappa and Fleiss' kappa over coder -> unit -> label."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from codebook.errors import InputError
from eval.agreement_common import (
    kappa_or_none,
    mean_of_defined,
    nan_to_none,
    require_known_codes,
    require_strings,
    require_unique,
)

_PRESENT = "present"
_ABSENT = "absent"


@dataclass(frozen=True)
class CoderPairAgreement:
    """Cohen's kappa of two coders on the ``n`` units both coded; None when undefined or n = 0."""

    coder_a: str
    coder_b: str
    n: int
    kappa: float | None


@dataclass(frozen=True)
class PairwiseAgreement:
    """Every coder pair, and the mean, min and max of the pair kappas that are defined."""

    pairs: tuple[CoderPairAgreement, ...]
    mean: float | None
    min: float | None
    max: float | None


@dataclass(frozen=True)
class FleissAgreement:
    """Fleiss' kappa over the units every coder coded.

    statsmodels requires the same number of ratings per unit; this uses the units coded by *all*
    coders (``n_units``) and counts the rest in ``n_units_dropped``. ``kappa`` is None when every
    rating falls in one category (chance agreement 1, kappa 0/0).
    """

    kappa: float | None
    n_units: int
    n_coders: int
    n_units_dropped: int
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CodePairwiseAgreement:
    """Pairwise Cohen's kappa on one code's presence vs absence."""

    code: str
    agreement: PairwiseAgreement


def pairwise_cohen(labels_by_coder: Mapping[str, Mapping[str, str]]) -> PairwiseAgreement:
    """Cohen's kappa for each pair of coders (mapping order) on the units both coded."""
    _require_coders(labels_by_coder)
    pairs = tuple(
        _pair_agreement(first, second, labels_by_coder[first], labels_by_coder[second])
        for first, second in itertools.combinations(labels_by_coder, 2)
    )
    defined = [pair.kappa for pair in pairs if pair.kappa is not None]
    return PairwiseAgreement(
        pairs=pairs,
        mean=mean_of_defined(defined),
        min=min(defined) if defined else None,
        max=max(defined) if defined else None,
    )


def _pair_agreement(
    coder_a: str, coder_b: str, labels_a: Mapping[str, str], labels_b: Mapping[str, str]
) -> CoderPairAgreement:
    shared = [unit for unit in labels_a if unit in labels_b]
    kappa = (
        kappa_or_none([labels_a[unit] for unit in shared], [labels_b[unit] for unit in shared])
        if shared
        else None
    )
    return CoderPairAgreement(coder_a=coder_a, coder_b=coder_b, n=len(shared), kappa=kappa)


def fleiss(labels_by_coder: Mapping[str, Mapping[str, str]]) -> FleissAgreement:
    """Fleiss' kappa (statsmodels) over the units coded by every coder."""
    _require_coders(labels_by_coder)
    coders = list(labels_by_coder)
    all_units = {unit for labels in labels_by_coder.values() for unit in labels}
    complete = sorted(
        unit for unit in all_units if all(unit in labels_by_coder[coder] for coder in coders)
    )
    if not complete:
        raise InputError(
            f"expected at least one unit coded by all {len(coders)} coders; found none; fix: "
            "use pairwise_cohen, which needs only units shared by each pair"
        )
    ratings = np.array([[labels_by_coder[coder][unit] for coder in coders] for unit in complete])
    table, categories = aggregate_raters(ratings)
    with np.errstate(invalid="ignore", divide="ignore"):
        # One category only makes chance agreement 1 and kappa 0/0; nan_to_none reports it.
        kappa: Any = fleiss_kappa(table, method="fleiss")
    return FleissAgreement(
        kappa=nan_to_none(float(kappa)),
        n_units=len(complete),
        n_coders=len(coders),
        n_units_dropped=len(all_units) - len(complete),
        categories=tuple(str(category) for category in categories),
    )


def pairwise_cohen_by_code(
    code_sets_by_coder: Mapping[str, Mapping[str, frozenset[str]]], code_ids: Sequence[str]
) -> tuple[CodePairwiseAgreement, ...]:
    """For each code, pairwise Cohen's kappa on its presence vs absence per shared unit."""
    require_unique(list(code_ids), "code id")
    for coder, code_sets in code_sets_by_coder.items():
        require_known_codes(code_sets.values(), code_ids, f"coder {coder!r}")
    return tuple(
        CodePairwiseAgreement(
            code=code,
            agreement=pairwise_cohen(
                {
                    coder: {
                        unit: _PRESENT if code in codes else _ABSENT
                        for unit, codes in code_sets.items()
                    }
                    for coder, code_sets in code_sets_by_coder.items()
                }
            ),
        )
        for code in code_ids
    )


def _require_coders(labels_by_coder: Mapping[str, Mapping[str, str]]) -> None:
    if len(labels_by_coder) < 2:
        raise InputError(
            f"expected at least two coders; found {len(labels_by_coder)}; fix: pass every "
            "coder's labels, keyed by coder name"
        )
    for coder, labels in labels_by_coder.items():
        require_strings(list(labels.values()), f"coder {coder!r}")
