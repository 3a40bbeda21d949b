"""Suggesters: estimator contract, exclusivity, abstention, evidence, calibration."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codebook.errors import CodedDataError, UnknownNameError
from codebook.loader import parse_codebook_yaml
from models.calibration import NEVER
from models.context import units_of
from models.encoder import l2_normalise
from models.errors import NotFittedError
from models.exemplars import Exemplars
from models.methods import SuggestOptions
from models.project_coder import ProjectCoder
from models.suggesters import (
    METHODS,
    KnnSuggester,
    LinearSuggester,
    PrototypeSuggester,
    make_suggester,
)
from models.testing import HashingEncoder

BOOK = parse_codebook_yaml(
    textwrap.dedent(
        """\
        name: fruit and mood
        codes:
          - {id: F, name: fruit, codable: false}
          - {id: apple, parent: F, name: apple, definition: "talks about apples"}
          - {id: pear, parent: F, name: pear, definition: "talks about pears"}
          - {id: M, name: mood, codable: false, exclusive: true}
          - {id: happy, parent: M, name: happy, definition: "a happy glad mood"}
          - {id: sad, parent: M, name: sad, definition: "a sad gloomy mood"}
          - {id: unused, name: never coded}
        """
    )
)
ENCODER = HashingEncoder()


def _exemplars() -> Exemplars:
    rows: list[tuple[str, frozenset[str]]] = []
    for i in range(8):
        rows.append((f"I ate an apple today number{i}", frozenset({"apple"})))
        rows.append((f"the pear was ripe case{i}", frozenset({"pear"})))
        rows.append((f"I feel happy and glad item{i}", frozenset({"happy"})))
        rows.append((f"so sad and gloomy entry{i}", frozenset({"sad"})))
        rows.append((f"an apple makes me happy and glad note{i}", frozenset({"apple", "happy"})))
        rows.append((f"the weather is cloudy line{i}", frozenset()))
    texts = [text for text, _ in rows]
    return Exemplars(
        model_id=ENCODER.model_id,
        vectors=ENCODER.encode(texts),
        codes=tuple(codes for _, codes in rows),
        texts=tuple(texts),
        ids=np.arange(100, 100 + len(rows), dtype=np.int64),
        groups=tuple(f"t{i % 4}" for i in range(len(rows))),
    )


EXEMPLARS = _exemplars()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_unfitted_suggester_says_what_to_call(method: str) -> None:
    suggester = make_suggester(method)
    with pytest.raises(NotFittedError, match=r"call fit\(exemplars, codebook\)"):
        suggester.suggest(ENCODER.encode(["x"]), ["x"], ENCODER.model_id)


def test_init_stores_parameters_only_and_fit_returns_self() -> None:
    suggester = KnnSuggester(k=7, top_n=2)
    assert vars(suggester) == {
        "top_n": 2,
        "n_evidence": 3,
        "calibration_folds": 3,
        "target": "kappa",
        "abstain_below": 0.0,
        "random_state": 0,
        "index_kind": "auto",
        "k": 7,
    }
    assert suggester.fit(EXEMPLARS, BOOK) is suggester
    assert suggester.thresholds_.shape == (len(BOOK.codable_ids),)


def test_unknown_method_is_named() -> None:
    with pytest.raises(UnknownNameError, match="expected one of: knn, prototype, linear"):
        make_suggester("svm")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_each_method_codes_clear_cases(method: str) -> None:
    suggester = make_suggester(method).fit(EXEMPLARS, BOOK)
    texts = ["I ate an apple", "the pear was ripe", "so sad and gloomy", "the weather is cloudy"]
    units = suggester.suggest(ENCODER.encode(texts), texts, ENCODER.model_id)
    assert units[0].suggested[0] == "apple"
    assert units[1].suggested[0] == "pear"
    assert "sad" in units[2].suggested
    assert all(unit.method == method for unit in units)
    assert all(unit.codebook_version == BOOK.version for unit in units)


def test_knn_scores_are_similarity_weighted_votes() -> None:
    suggester = KnnSuggester(k=3).fit(EXEMPLARS, BOOK)
    query = ENCODER.encode(["an apple makes me happy"])
    found = suggester.state_.index.search(query, 3)
    weights = np.clip(found.scores[0], 1e-3, None)
    labels = EXEMPLARS.label_matrix(BOOK.codable_ids)[found.ids[0]]
    expected = (weights[:, None] * labels).sum(axis=0) / weights.sum()
    np.testing.assert_allclose(suggester.scores(query)[0], expected, rtol=1e-6)


def test_knn_counts_uncoded_neighbours_as_no_code() -> None:
    suggester = KnnSuggester(k=5).fit(EXEMPLARS, BOOK)
    [unit] = suggester.suggest(
        ENCODER.encode(["the weather is cloudy"]), ["the weather is cloudy"], ENCODER.model_id
    )
    assert unit.no_code
    assert unit.suggested == []
    assert unit.no_code_score > 0.9
    assert unit.no_code_evidence
    assert all(evidence.codes == [] for evidence in unit.no_code_evidence)


def test_knn_evidence_is_the_voters_and_splits_for_and_against() -> None:
    suggester = KnnSuggester(k=6).fit(EXEMPLARS, BOOK)
    query = ENCODER.encode(["an apple makes me happy"])
    voters = suggester.neighbours(query)
    assert voters.positions.shape == (1, 6), "the evidence is the k voters"
    voter_ids = set(EXEMPLARS.ids[voters.positions[0]])
    # no exemplar outside the voters is nearer than the farthest voter
    sixth = suggester.state_.index.search(query, 6).scores[0, -1]
    assert voters.similarities[0].min() == pytest.approx(sixth, abs=1e-6)
    [unit] = suggester.suggest(query, ["an apple makes me happy"], ENCODER.model_id)
    for code in unit.codes:
        assert {e.exemplar_id for e in code.supporting + code.opposing} <= voter_ids
        assert all(code.code in e.codes for e in code.supporting)
        assert all(code.code not in e.codes for e in code.opposing)
    sims = [e.similarity for e in unit.codes[0].supporting]
    assert sims == sorted(sims, reverse=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(sorted(METHODS)))
def test_exclusive_category_never_gets_two_codes(seed: int, method: str) -> None:
    suggester = _fitted[method]
    queries = l2_normalise(np.random.default_rng(seed).normal(size=(20, ENCODER.dim)))
    decisions = suggester.decide(queries)
    columns = [BOOK.codable_ids.index(code) for code in ("happy", "sad")]
    assert (decisions.decided[:, columns].sum(axis=1) <= 1).all()


_fitted = {method: make_suggester(method).fit(EXEMPLARS, BOOK) for method in METHODS}


def test_abstention_follows_confidence() -> None:
    texts = ["I ate an apple", "apple pear happy sad", "completely unrelated words"]
    vectors = ENCODER.encode(texts)
    never = KnnSuggester(abstain_below=0.0).fit(EXEMPLARS, BOOK).suggest(vectors, texts, "m")
    assert not any(unit.abstained for unit in never)
    confidences = [unit.confidence for unit in never]
    cut = float(np.median(confidences))
    some = KnnSuggester(abstain_below=cut).fit(EXEMPLARS, BOOK).suggest(vectors, texts, "m")
    for unit, confidence in zip(some, confidences, strict=True):
        assert unit.abstained == (confidence < cut)
        if unit.abstained:
            assert unit.suggested == []
            assert not unit.no_code
            assert not any(code.suggested for code in unit.codes)


def test_code_without_exemplars_is_never_suggested() -> None:
    suggester = LinearSuggester().fit(EXEMPLARS, BOOK)
    assert suggester.thresholds_[BOOK.codable_ids.index("unused")] == NEVER
    decisions = suggester.decide(ENCODER.encode(["never coded at all", "apple"]))
    assert not decisions.decided[:, BOOK.codable_ids.index("unused")].any()


def test_thresholds_come_from_training_data_only() -> None:
    one = KnnSuggester().fit(EXEMPLARS, BOOK)
    two = KnnSuggester().fit(EXEMPLARS, BOOK)
    np.testing.assert_array_equal(one.thresholds_, two.thresholds_)
    two.suggest(ENCODER.encode(["I ate an apple"]), ["I ate an apple"], "m")
    np.testing.assert_array_equal(one.thresholds_, two.thresholds_)


def test_fit_refuses_codes_outside_the_codebook() -> None:
    bad = Exemplars(
        model_id="m",
        vectors=ENCODER.encode(["a", "b"]),
        codes=(frozenset({"apple"}), frozenset({"happy", "sad"})),
        texts=("a", "b"),
        ids=np.array([1, 2], dtype=np.int64),
    )
    with pytest.raises(CodedDataError, match="exclusive category 'M'"):
        KnnSuggester().fit(bad, BOOK)


def test_shapes_do_not_change_with_input() -> None:
    suggester = PrototypeSuggester().fit(EXEMPLARS, BOOK)
    one = suggester.decide(ENCODER.encode(["apple"])[0])
    assert one.scores.shape == (1, len(BOOK.codable_ids))
    assert suggester.suggest(ENCODER.encode([]), [], "m") == []


def test_coder_fills_uncoded_codes_from_the_codebook() -> None:
    coded = pd.DataFrame(
        {
            "transcript_id": ["t1", "t1", "t2"],
            "unit_id": ["0", "1", "0"],
            "text": ["I ate an apple", "the weather", "the apple was good"],
            "codes": [frozenset({"apple"}), frozenset(), frozenset({"apple"})],
            "group": ["t1", "t1", "t2"],
        }
    )
    coder = ProjectCoder(ENCODER, "prototype").fit_frame(coded, BOOK)
    exemplars = coder.head_.exemplars_
    from_codebook = [i for i, e in enumerate(exemplars.ids) if e < 0]
    assert {code for i in from_codebook for code in exemplars.codes[i]} == {
        "pear",
        "happy",
        "sad",
        "unused",
    }
    [unit] = coder.suggest(units_of(["a sad gloomy mood"]), SuggestOptions(top=6))
    assert unit.codes[0].code == "sad"
    assert unit.codes[0].supporting[0].exemplar_id < 0


def test_coder_unfitted() -> None:
    with pytest.raises(NotFittedError, match="cold start"):
        ProjectCoder(ENCODER, "knn").suggest(units_of(["x"]))
