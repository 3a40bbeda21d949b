"""Code these next (models.next_units through ProjectCoder.rank_for_coding): the coder's most
uncertain units come first and say between which codes; the picks are not near-duplicates;
the cold start ranks by diversity alone; the same seed gives the same ranking; n bounds it."""

from __future__ import annotations

import numpy as np
import pytest

from codebook.loader import parse_codebook_yaml
from models.exemplars import Exemplars
from models.next_units import RankedUnit, rank_units, warm_after
from models.project_coder import ProjectCoder
from models.testing import HashingEncoder

ENCODER = HashingEncoder()
BOOK = parse_codebook_yaml(
    "name: fruit\ncodes:\n"
    "  - {id: fruit, name: fruit, codable: false, exclusive: true}\n"
    "  - {id: apple, name: apple, parent: fruit}\n"
    "  - {id: pear, name: pear, parent: fruit}\n"
)
FILLER = ["red", "green", "sweet", "crisp", "ripe", "tree", "market", "juice", "pie", "core"]


def _exemplars(count: int) -> Exemplars:
    """Half apple sentences, half pear sentences, none mentioning both fruits."""
    rng = np.random.default_rng(0)
    texts, codes = [], []
    for row in range(count):
        fruit = "apple" if row % 2 == 0 else "pear"
        texts.append(f"{fruit} {fruit} " + " ".join(rng.choice(FILLER, size=2)))
        codes.append(frozenset({fruit}))
    return Exemplars(
        model_id=ENCODER.model_id,
        vectors=ENCODER.encode(texts),
        codes=tuple(codes),
        texts=tuple(texts),
        ids=np.arange(1, count + 1, dtype=np.int64),
        groups=tuple(f"t{row % 4}" for row in range(count)),
    )


def _coder(count: int = 40) -> ProjectCoder:
    return ProjectCoder(ENCODER, "linear", index_kind="exact").fit(_exemplars(count), BOOK)


CLEAR = [f"apple apple {word}" for word in FILLER] + [f"pear pear {word}" for word in FILLER]
TORN = [f"apple pear {word}" for word in FILLER]


def test_the_most_uncertain_units_come_first_and_say_between_which_codes() -> None:
    candidates = CLEAR + TORN
    ranked = _coder().rank_for_coding(ENCODER.encode(candidates), n=5)
    assert len(ranked) == 5
    assert all(unit.reason == "uncertain" for unit in ranked)
    assert all(candidates[unit.position] in TORN for unit in ranked)
    assert set(ranked[0].codes) == {"apple", "pear"}
    assert ranked[0].why in ("uncertain between apple and pear", "uncertain between pear and apple")
    scores = [unit.score for unit in ranked]
    assert scores == sorted(scores, reverse=True)
    clear_doubt = _coder().rank_for_coding(ENCODER.encode(CLEAR), n=1)[0].score
    assert clear_doubt < min(scores)


def test_picks_are_spread_over_kinds_of_doubt_not_near_duplicates() -> None:
    # 30 copies of one torn sentence and a few other torn sentences: an uncertainty-only
    # ranking would return the copies; one pick per cluster returns each kind once.
    copies = ["apple pear pie"] * 30
    others = [f"apple pear {word} {word}" for word in ("red", "tree", "juice", "core")]
    ranked = _coder().rank_for_coding(ENCODER.encode(copies + others), n=5)
    texts = [(copies + others)[unit.position] for unit in ranked]
    assert texts.count("apple pear pie") == 1
    assert len(set(texts)) == 5
    assert max(unit.represents for unit in ranked) >= 30


def test_the_cold_start_ranks_by_diversity_alone() -> None:
    coder = ProjectCoder(ENCODER, "linear").fit(None, BOOK)
    candidates = ["the weather is cloudy"] * 20 + CLEAR + TORN
    ranked = coder.rank_for_coding(ENCODER.encode(candidates), n=6)
    assert len(ranked) == 6
    assert all(unit.reason == "unlike coded" and unit.codes == () for unit in ranked)
    assert ranked[0].why.startswith("unlike anything coded")
    texts = [candidates[unit.position] for unit in ranked]
    assert texts.count("the weather is cloudy") <= 1


def test_few_coded_units_still_count_as_the_cold_start() -> None:
    few = warm_after(len(BOOK.codable_ids)) - 2
    ranked = _coder(few).rank_for_coding(ENCODER.encode(CLEAR + TORN), n=4)
    assert {unit.reason for unit in ranked} == {"unlike coded"}


def test_diversity_prefers_units_unlike_the_coded_ones() -> None:
    coded = ENCODER.encode(["apple apple red green"])
    near = ["apple apple red green"] * 10
    far = [f"cloudy weather {word}" for word in ("today", "tomorrow", "outside")]
    vectors = ENCODER.encode(near + far)
    ranked = rank_units(vectors, coded, None, [], n=2)
    assert [unit.novelty for unit in ranked] == sorted(
        (unit.novelty for unit in ranked), reverse=True
    )
    assert (near + far)[ranked[0].position] in far
    assert ranked[0].novelty > 0.5


def test_the_same_seed_gives_the_same_ranking() -> None:
    vectors = ENCODER.encode(CLEAR + TORN + [f"{a} {b}" for a in FILLER for b in FILLER])
    coder = _coder()
    first = coder.rank_for_coding(vectors, n=8, seed=3)
    assert coder.rank_for_coding(vectors, n=8, seed=3) == first
    assert all(isinstance(unit, RankedUnit) for unit in first)
    cold = ProjectCoder(ENCODER, "linear").fit(None, BOOK)
    assert cold.rank_for_coding(vectors, n=8, seed=3) == cold.rank_for_coding(vectors, n=8, seed=3)


def test_n_bounds_the_ranking() -> None:
    vectors = ENCODER.encode(CLEAR + TORN)
    assert len(_coder().rank_for_coding(vectors, n=3)) == 3
    assert len(_coder().rank_for_coding(vectors, n=100)) == len(vectors)
    assert _coder().rank_for_coding(vectors[:0], n=3) == ()
    with pytest.raises(ValueError, match="at least 1"):
        rank_units(vectors, vectors[:0], None, [], n=0)
