"""Agreement among coders: Fleiss' and Krippendorff's textbook values, pairwise Cohen's kappa."""

from __future__ import annotations

import numpy as np
import pytest
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score

from codebook.errors import InputError
from eval.agreement import fleiss, krippendorff_alpha_masi, pairwise_cohen

# --- textbook data --------------------------------------------------------------------------

# Fleiss (1971) as on Wikipedia: 10 subjects, 14 raters, counts per category 1..5.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data, 4 observers,
# 12 units, "." missing; alpha = 0.743.
KRIPPENDORFF_ROWS = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}


def krippendorff_labels() -> dict[str, dict[str, str]]:
    return {
        coder: {f"u{unit:02d}": value for unit, value in enumerate(row.split()) if value != "."}
        for coder, row in KRIPPENDORFF_ROWS.items()
    }


def as_singletons(labels: dict[str, dict[str, str]]) -> dict[str, dict[str, frozenset[str]]]:
    return {
        coder: {unit: frozenset({value}) for unit, value in by_unit.items()}
        for coder, by_unit in labels.items()
    }


def fleiss_labels_by_coder() -> dict[str, dict[str, str]]:
    # Fleiss' raters are anonymous per subject: rater j gives the j-th of the expanded ratings.
    by_coder: dict[str, dict[str, str]] = {f"r{rater}": {} for rater in range(14)}
    for subject, counts in enumerate(FLEISS_TABLE):
        ratings = [str(category + 1) for category, n in enumerate(counts) for _ in range(n)]
        for rater, rating in enumerate(ratings):
            by_coder[f"r{rater}"][f"s{subject}"] = rating
    return by_coder


def test_fleiss_textbook_kappa_is_0_210() -> None:
    result = fleiss(fleiss_labels_by_coder())
    assert result.kappa == pytest.approx(0.20993, abs=5e-5)
    assert (result.n_units, result.n_coders, result.n_units_dropped) == (10, 14, 0)
    assert result.categories == ("1", "2", "3", "4", "5")


def test_krippendorff_textbook_alpha_is_0_743() -> None:
    alpha = krippendorff_alpha_masi(as_singletons(krippendorff_labels()))
    assert alpha == pytest.approx(0.743, abs=5e-4)
    # With singleton sets MASI is the nominal distance: nltk's own nominal alpha must agree.
    triples = [
        (c, u, v) for c, by_unit in krippendorff_labels().items() for u, v in by_unit.items()
    ]
    assert alpha == pytest.approx(AnnotationTask(data=triples).alpha(), abs=1e-12)


def test_krippendorff_alpha_ignores_unpairable_units() -> None:
    codings = as_singletons(krippendorff_labels())
    codings["E"] = {"only-e": frozenset({"9"})}
    assert krippendorff_alpha_masi(codings) == pytest.approx(0.743, abs=5e-4)


# --- human-human ----------------------------------------------------------------------------


def test_pairwise_cohen_uses_shared_units_per_pair() -> None:
    labels = krippendorff_labels()
    result = pairwise_cohen(labels)
    pairs = {(p.coder_a, p.coder_b): p for p in result.pairs}
    assert list(pairs) == [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")]
    shared = sorted(set(labels["A"]) & set(labels["C"]))
    assert pairs[("A", "C")].n == len(shared) == 8
    expected = cohen_kappa_score([labels["A"][u] for u in shared], [labels["C"][u] for u in shared])
    assert pairs[("A", "C")].kappa == pytest.approx(expected, abs=1e-12)
    kappas = [p.kappa for p in result.pairs if p.kappa is not None]
    assert result.mean == pytest.approx(float(np.mean(kappas)))
    assert (result.min, result.max) == (min(kappas), max(kappas))


def test_pairwise_cohen_pair_without_shared_units() -> None:
    result = pairwise_cohen({"a": {"1": "x", "2": "y"}, "b": {"1": "x", "2": "y"}, "c": {"9": "x"}})
    by_pair = {(p.coder_a, p.coder_b): p for p in result.pairs}
    assert by_pair[("a", "c")].n == 0
    assert by_pair[("a", "c")].kappa is None
    assert result.mean == result.min == result.max == pytest.approx(1.0)


def test_fleiss_uses_units_coded_by_all_coders() -> None:
    labels = krippendorff_labels()
    result = fleiss(labels)
    # u01..u08 are coded by all four; C skipped u00, A skipped u09..u11.
    assert (result.n_units, result.n_units_dropped, result.n_coders) == (8, 4, 4)
    assert result.kappa is not None
    assert 0.0 < result.kappa < 1.0


def test_fleiss_single_category_is_undefined() -> None:
    result = fleiss({"a": {"1": "x", "2": "x"}, "b": {"1": "x", "2": "x"}})
    assert result.kappa is None


def test_fleiss_and_pairwise_need_two_coders() -> None:
    with pytest.raises(InputError, match="at least two coders"):
        fleiss({"a": {"1": "x"}})
    with pytest.raises(InputError, match="at least two coders"):
        pairwise_cohen({"a": {"1": "x"}})
    with pytest.raises(InputError, match="coded by all 2 coders"):
        fleiss({"a": {"1": "x"}, "b": {"2": "x"}})
