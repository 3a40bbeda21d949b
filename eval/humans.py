"""Human-human agreement, and the machine against the same humans on the same units.

A machine figure means little without the humans' own agreement on the same units beside it:
on AnnoMI's seven transcripts coded by all ten annotators, humans agree at kappa 0.74 on
therapist behaviour but only 0.47 on client talk type.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import pandas as pd

from codebook.model import Codebook
from eval.agreement import fleiss, pairwise_cohen
from eval.report_model import CoderPair, HumanAgreement, HumanComparison, SchemeKind
from eval.scoring import as_label, headline_kappa

UnitKey = tuple[str, str]


def _codings(frame: pd.DataFrame) -> dict[str, dict[UnitKey, frozenset[str]]]:
    """coder -> (transcript id, unit id) -> code set."""
    by_coder: dict[str, dict[UnitKey, frozenset[str]]] = {}
    for transcript, unit, coder, codes in zip(
        frame["transcript_id"], frame["unit_id"], frame["coder"], frame["codes"], strict=True
    ):
        by_coder.setdefault(str(coder), {})[(str(transcript), str(unit))] = frozenset(codes)
    return by_coder


def human_agreement(
    multi_coded: pd.DataFrame, kind: SchemeKind, codebook: Codebook
) -> HumanAgreement:
    codings = _codings(multi_coded)
    units = {key for coded in codings.values() for key in coded}
    if kind == "single-label":
        labels = {
            coder: {f"{t}/{u}": as_label(codes) for (t, u), codes in coded.items()}
            for coder, coded in codings.items()
        }
        pairwise = pairwise_cohen(labels)
        pairs = [
            CoderPair(coder_a=p.coder_a, coder_b=p.coder_b, n_units=p.n, kappa=p.kappa)
            for p in pairwise.pairs
        ]
        return HumanAgreement(
            n_units=len(units),
            n_coders=len(codings),
            fleiss_kappa=fleiss(labels).kappa,
            pairwise_mean=pairwise.mean,
            pairwise_min=pairwise.min,
            pairwise_max=pairwise.max,
            pairs=pairs,
        )
    return _multilabel_human_agreement(codings, codebook, len(units))


def _multilabel_human_agreement(
    codings: dict[str, dict[UnitKey, frozenset[str]]], codebook: Codebook, n_units: int
) -> HumanAgreement:
    kappa = headline_kappa("multi-label", codebook.codable_ids)
    pairs = []
    for first, second in combinations(sorted(codings), 2):
        shared = sorted(set(codings[first]) & set(codings[second]))
        if shared:
            value = kappa([codings[first][k] for k in shared], [codings[second][k] for k in shared])
            pairs.append(CoderPair(coder_a=first, coder_b=second, n_units=len(shared), kappa=value))
    defined = [pair.kappa for pair in pairs if pair.kappa is not None]
    return HumanAgreement(
        n_units=n_units,
        n_coders=len(codings),
        fleiss_kappa=None,
        pairwise_mean=sum(defined) / len(defined) if defined else None,
        pairwise_min=min(defined) if defined else None,
        pairwise_max=max(defined) if defined else None,
        pairs=pairs,
    )


def machine_vs_humans(
    multi_coded: pd.DataFrame | None,
    reference: pd.DataFrame,
    machine: Sequence[frozenset[str]],
    kind: SchemeKind,
    code_ids: tuple[str, ...],
) -> HumanComparison | None:
    """On the units several humans coded: machine vs their majority, and vs each of them."""
    if multi_coded is None:
        return None
    row_of = {
        (str(t), str(u)): row
        for row, (t, u) in enumerate(
            zip(reference["transcript_id"], reference["unit_id"], strict=True)
        )
    }
    codings = _codings(multi_coded)
    units = sorted({key for coded in codings.values() for key in coded} & set(row_of))
    if not units:
        return None
    kappa = headline_kappa(kind, code_ids)
    majority = [frozenset(reference["codes"].iloc[row_of[key]]) for key in units]
    vs_majority = kappa(majority, [machine[row_of[key]] for key in units])
    vs_each: dict[str, float | None] = {}
    for coder, coded in sorted(codings.items()):
        keys = [key for key in units if key in coded]
        vs_each[coder] = kappa([coded[k] for k in keys], [machine[row_of[k]] for k in keys])
    defined = [value for value in vs_each.values() if value is not None]
    return HumanComparison(
        n_units=len(units),
        vs_majority=vs_majority,
        vs_each_coder=vs_each,
        vs_each_coder_mean=sum(defined) / len(defined) if defined else None,
    )
