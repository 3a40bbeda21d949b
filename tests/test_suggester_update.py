"""BaseSuggester.update: learning from a changed exemplar set without recalibrating."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from codebook.errors import CodedDataError
from models.calibration import DEFAULT_THRESHOLD, NEVER, carried_thresholds
from models.errors import NotFittedError
from models.exemplars import Exemplars
from models.suggesters import METHODS, LinearSuggester, make_suggester
from tests.test_suggesters import BOOK, ENCODER, EXEMPLARS

PEAR = BOOK.codable_ids.index("pear")


def _without_pear() -> Exemplars:
    return EXEMPLARS.subset([i for i, codes in enumerate(EXEMPLARS.codes) if "pear" not in codes])


def test_update_after_adding_exemplars_scores_like_a_fresh_fit() -> None:
    first = EXEMPLARS.subset(np.arange(30))
    updated = LinearSuggester(tol=1e-8, max_iter=5000).fit(first, BOOK)
    calibrated = updated.thresholds_.copy()
    updated.update(EXEMPLARS)
    fresh = LinearSuggester(tol=1e-8, max_iter=5000).fit(EXEMPLARS, BOOK)
    queries = ENCODER.encode(["I ate an apple", "so sad", "the pear was ripe", "cloudy"])
    np.testing.assert_allclose(updated.scores(queries), fresh.scores(queries), atol=1e-3)
    np.testing.assert_array_equal(updated.thresholds_, calibrated)
    assert updated.calibrated_count_ == 30
    assert updated.exemplars_ is EXEMPLARS
    assert updated.search_.count == len(EXEMPLARS)
    assert len(updated.search_.index) == len(EXEMPLARS)


def test_code_gaining_its_first_exemplar_gets_suggested() -> None:
    suggester = LinearSuggester().fit(_without_pear(), BOOK)
    assert suggester.thresholds_[PEAR] == NEVER
    suggester.update(EXEMPLARS)
    assert suggester.thresholds_[PEAR] == DEFAULT_THRESHOLD
    [unit] = suggester.suggest(
        ENCODER.encode(["the pear was ripe"]), ["the pear was ripe"], ENCODER.model_id
    )
    assert "pear" in unit.suggested


def test_code_losing_its_last_exemplar_is_never_suggested() -> None:
    suggester = LinearSuggester().fit(EXEMPLARS, BOOK)
    suggester.update(_without_pear())
    assert suggester.thresholds_[PEAR] == NEVER
    decisions = suggester.decide(ENCODER.encode(["the pear was ripe"]))
    assert not decisions.decided[0, PEAR]


def test_recoded_exemplar_is_learned() -> None:
    suggester = LinearSuggester().fit(EXEMPLARS, BOOK)
    before = suggester.scores(ENCODER.encode(["the weather is cloudy"]))[0, PEAR]
    recoded = tuple(
        frozenset({"pear"}) if "cloudy" in text else codes
        for text, codes in zip(EXEMPLARS.texts, EXEMPLARS.codes, strict=True)
    )
    changed = Exemplars(
        EXEMPLARS.model_id,
        EXEMPLARS.vectors,
        recoded,
        EXEMPLARS.texts,
        EXEMPLARS.ids,
        EXEMPLARS.groups,
    )
    after = suggester.update(changed).scores(ENCODER.encode(["the weather is cloudy"]))[0, PEAR]
    assert after > before + 0.3


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_updates(method: str) -> None:
    suggester = make_suggester(method).fit(EXEMPLARS.subset(np.arange(40)), BOOK)
    assert suggester.update(EXEMPLARS) is suggester
    assert len(suggester.exemplars_) == len(EXEMPLARS)
    texts = ["I ate an apple"]
    [unit] = suggester.suggest(ENCODER.encode(texts), texts, ENCODER.model_id)
    assert unit.suggested[0] == "apple"


def test_unfitted_update_raises() -> None:
    with pytest.raises(NotFittedError, match=r"call fit\(exemplars, codebook\)"):
        LinearSuggester().update(EXEMPLARS)


def test_update_refuses_exemplars_that_do_not_fit_the_codebook() -> None:
    suggester = LinearSuggester().fit(EXEMPLARS, BOOK)
    bad = Exemplars(
        model_id="m",
        vectors=ENCODER.encode(["a", "b"]),
        codes=(frozenset({"apple"}), frozenset({"happy", "sad"})),
        texts=("a", "b"),
        ids=np.array([1, 2], dtype=np.int64),
    )
    with pytest.raises(CodedDataError, match="exclusive category 'M'"):
        suggester.update(bad)
    empty = EXEMPLARS.subset([])
    with pytest.raises(CodedDataError, match="no coded exemplars"):
        suggester.update(empty)


def test_carried_thresholds_take_the_fresh_value_only_where_a_code_appeared_or_vanished() -> None:
    calibrated = np.array([0.3, NEVER, 0.7, 0.2])
    fresh = np.array([0.5, 0.5, NEVER, 0.5])
    np.testing.assert_array_equal(carried_thresholds(calibrated, fresh), [0.3, 0.5, NEVER, 0.2])


def test_update_on_a_shallow_copy_leaves_the_original_serving() -> None:
    original = LinearSuggester().fit(_without_pear(), BOOK)
    thresholds, state, index = (
        original.thresholds_.copy(),
        original.state_,
        original.search_,
    )
    updated = copy.copy(original).update(EXEMPLARS)
    assert original.state_ is state
    assert original.search_ is index
    np.testing.assert_array_equal(original.thresholds_, thresholds)
    assert updated.thresholds_[PEAR] == DEFAULT_THRESHOLD
