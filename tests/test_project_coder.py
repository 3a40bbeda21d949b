"""ProjectCoder.learn: small changes update the head with the calibrated thresholds kept;
added, removed and recoded exemplars all count toward the drift that triggers a full
recalibration; a copy learns without disturbing whoever holds the original."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from codebook.loader import parse_codebook_yaml
from models.context import units_of
from models.exemplars import Exemplars
from models.project_coder import ProjectCoder
from models.testing import HashingEncoder

ENCODER = HashingEncoder()
BOOK = parse_codebook_yaml(
    "name: fruit\ncodes:\n  - {id: apple, name: apple}\n  - {id: pear, name: pear}\n"
)
WORDS = ["apple", "pear", "weather", "cloudy", "crisp", "ripe", "tree", "market"]


def _exemplars(count: int, first_id: int = 1, seed: int = 0) -> Exemplars:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=4)) for _ in range(count)]
    codes = tuple(frozenset(w for w in ("apple", "pear") if w in text) for text in texts)
    return Exemplars(
        model_id=ENCODER.model_id,
        vectors=ENCODER.encode(texts),
        codes=codes,
        texts=tuple(texts),
        ids=np.arange(first_id, first_id + count, dtype=np.int64),
        groups=tuple(f"t{i % 5}" for i in range(count)),
    )


def _recoded(exemplars: Exemplars, count: int) -> Exemplars:
    """The first ``count`` exemplars replaced by new ids with the other code, as the store does
    when a coder changes a coding (delete, then insert)."""
    flipped = tuple(
        frozenset({"pear"} if "apple" in codes else {"apple"}) if row < count else codes
        for row, codes in enumerate(exemplars.codes)
    )
    new_ids = exemplars.ids.copy()
    new_ids[:count] = np.arange(10_000, 10_000 + count)
    return dataclasses.replace(exemplars, codes=flipped, ids=new_ids)


def test_one_more_exemplar_updates_without_recalibrating() -> None:
    exemplars = _exemplars(60)
    coder = ProjectCoder(ENCODER, "linear").fit(exemplars.subset(np.arange(59)), BOOK)
    calibrated = coder.calibrated_ids_
    coder.learn(exemplars, BOOK)
    assert coder.state.exemplar_count == 60
    assert coder.state.calibrated_count == 59
    np.testing.assert_array_equal(coder.calibrated_ids_, calibrated)


def test_recodes_count_toward_recalibration_though_the_count_stays() -> None:
    exemplars = _exemplars(60)
    few, many = ProjectCoder(ENCODER, "linear"), ProjectCoder(ENCODER, "linear")
    few.fit(exemplars, BOOK).learn(_recoded(exemplars, 2), BOOK)  # 4 ids differ: under 6
    many.fit(exemplars, BOOK).learn(_recoded(exemplars, 4), BOOK)  # 8 ids differ: over 6
    np.testing.assert_array_equal(few.calibrated_ids_, exemplars.ids)
    np.testing.assert_array_equal(many.calibrated_ids_, np.sort(_recoded(exemplars, 4).ids))


def test_a_new_codebook_recalibrates() -> None:
    exemplars = _exemplars(40)
    coder = ProjectCoder(ENCODER, "knn").fit(exemplars.subset(np.arange(39)), BOOK)
    other = parse_codebook_yaml(
        "name: fruit 2\ncodes:\n  - {id: apple, name: apple}\n  - {id: pear, name: pear}\n"
    )
    coder.learn(exemplars, other)
    assert coder.state.codebook_version == other.version
    assert coder.state.calibrated_count == 40


def test_a_copy_learns_and_the_original_keeps_answering_as_before() -> None:
    exemplars = _exemplars(60)
    original = ProjectCoder(ENCODER, "linear").fit(exemplars.subset(np.arange(50)), BOOK)
    units = units_of(["a ripe pear from the market", "cloudy weather"])
    before = original.suggest(units)
    learned = copy.copy(original).learn(exemplars, BOOK)
    assert original.suggest(units) == before
    assert original.state.exemplar_count == 50
    assert learned.state.exemplar_count == 60
