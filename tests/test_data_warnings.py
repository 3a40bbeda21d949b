"""Small-data honesty: a coder fitted on few exemplars names its thin codes with their counts
and how many more to code; the cold start says it is one; a code suggested on most sentences,
far more often than the team gave it, is flagged; enough data warns of nothing."""

from __future__ import annotations

import numpy as np

from codebook.loader import parse_codebook_yaml
from models.data_warnings import (
    COLD_START_MESSAGE,
    MIN_CODED_PER_CODE,
    CodeCoverage,
    data_warnings,
)
from models.exemplars import Exemplars
from models.project_coder import ProjectCoder
from models.testing import HashingEncoder

ENCODER = HashingEncoder()
BOOK = parse_codebook_yaml(
    "name: fruit\ncodes:\n  - {id: apple, name: apple}\n  - {id: pear, name: pear}\n"
    "  - {id: plum, name: plum}\n"
)


def _exemplars(apples: int, pears: int, blanks: int) -> Exemplars:
    texts = (
        [f"a crisp apple {i}" for i in range(apples)]
        + [f"a ripe pear {i}" for i in range(pears)]
        + [f"cloudy weather {i}" for i in range(blanks)]
    )
    codes = [frozenset({"apple"})] * apples + [frozenset({"pear"})] * pears + [frozenset()] * blanks
    return Exemplars(
        model_id=ENCODER.model_id,
        vectors=ENCODER.encode(texts),
        codes=tuple(codes),
        texts=tuple(texts),
        ids=np.arange(1, len(texts) + 1, dtype=np.int64),
        groups=tuple(f"t{i % 4}" for i in range(len(texts))),
    )


def test_thin_codes_carry_their_counts_and_what_is_missing() -> None:
    state = ProjectCoder(ENCODER, "knn").fit(_exemplars(12, 3, 10), BOOK).state
    assert state.thin_codes == (CodeCoverage("pear", 3, 7), CodeCoverage("plum", 0, 10))
    (warning,) = state.warnings()
    assert warning.kind == "thin_codes"
    assert warning.codes == state.thin_codes
    assert warning.message.startswith(
        f"2 of 3 codes have fewer than {MIN_CODED_PER_CODE} coded sentences (pear: 3; 1 with none)"
    )
    assert "about 17 more" in warning.message


def test_learning_recounts_the_codes() -> None:
    coder = ProjectCoder(ENCODER, "knn").fit(_exemplars(12, 9, 40), BOOK)
    coder.learn(_exemplars(12, 10, 40), BOOK)  # one more pear: small enough to update
    assert [c.code for c in coder.state.thin_codes] == ["plum"]


def test_cold_start_says_so_and_nothing_else() -> None:
    state = ProjectCoder(ENCODER).fit(None, BOOK).state
    (warning,) = state.warnings()
    assert (warning.kind, warning.message) == ("cold_start", COLD_START_MESSAGE)


def test_enough_coded_sentences_warn_of_nothing() -> None:
    covered = [CodeCoverage(code, 20, 0) for code in BOOK.codable_ids]
    assert data_warnings(False, 60, covered) == ()


def test_a_code_suggested_on_most_sentences_far_above_its_share_is_flagged() -> None:
    covered = [CodeCoverage("apple", 12, 0), CodeCoverage("pear", 30, 0)]
    warnings = data_warnings(False, 51, covered, {"apple": 31, "pear": 2}, units=36)
    assert [(w.kind, w.codes) for w in warnings] == [("dominant_code", (covered[0],))]
    assert warnings[0].message.startswith("apple was suggested on 31 of 36 sentences")


def test_a_code_the_team_uses_on_most_sentences_is_not_flagged() -> None:
    covered = [CodeCoverage("apple", 40, 0)]
    assert data_warnings(False, 60, covered, {"apple": 31}, units=36) == ()
    # and a few sentences say nothing about a code's share
    assert data_warnings(False, 60, [CodeCoverage("apple", 10, 0)], {"apple": 5}, units=5) == ()
