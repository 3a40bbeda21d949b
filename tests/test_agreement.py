"""The agreement API's input checks: bad input is an InputError that says what to fix."""

from __future__ import annotations

import pytest

from codebook.errors import InputError
from eval.agreement import (
    bootstrap_ci,
    cohen_kappa_statistic,
    exclusive_agreement,
    krippendorff_alpha_masi,
    multilabel_agreement,
)


def test_empty_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least one coded unit"):
        exclusive_agreement([], [])
    with pytest.raises(InputError, match="at least one coded unit"):
        multilabel_agreement([], [], ["a"])
    with pytest.raises(InputError, match="at least one code id"):
        multilabel_agreement([frozenset()], [frozenset()], [])
    with pytest.raises(InputError, match="coded by two coders"):
        krippendorff_alpha_masi({})
    with pytest.raises(InputError, match="at least one row"):
        bootstrap_ci(lambda rows: 0.0, [])


def test_mismatched_lengths_say_expected_found_fix() -> None:
    with pytest.raises(InputError) as caught:
        exclusive_agreement(["a", "b"], ["a"])
    message = str(caught.value)
    assert "expected truth and predicted of equal length" in message
    assert "found 2 truth and 1 predicted" in message
    assert "fix:" in message
    with pytest.raises(InputError, match="found 1 truth and 2 predicted"):
        multilabel_agreement([frozenset()], [frozenset(), frozenset()], ["a"])
    with pytest.raises(InputError, match="equal length"):
        cohen_kappa_statistic(["a"], [])


def test_bad_labels_and_codes_are_input_errors() -> None:
    with pytest.raises(InputError, match="unlisted: 'z'"):
        exclusive_agreement(["a", "z"], ["a", "a"], labels=["a"])
    with pytest.raises(InputError, match="to be a string"):
        exclusive_agreement(["a", None], ["a", "a"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="repeated: 'a'"):
        exclusive_agreement(["a"], ["a"], labels=["a", "a"])
    with pytest.raises(InputError, match="unknown: 'q'"):
        multilabel_agreement([frozenset({"q"})], [frozenset()], ["a"])
    with pytest.raises(InputError, match="set of codes"):
        krippendorff_alpha_masi({"x": {"1": "ab"}, "y": {"1": "ab"}})  # type: ignore[dict-item]
