"""Cold start: the shipped interview codebook and background set, no coded data at all.

The fast tests use the hashing encoder; the ones marked slow use the real model.
"""

from __future__ import annotations

import numpy as np
import pytest

from codebook.background import load_background
from codebook.loader import load_codebook
from models.cold_start import ColdStartSuggester, fit_cold_start
from models.context import units_of
from models.encoder import SentenceTransformerEncoder
from models.exemplars import codebook_exemplars, cold_start_exemplars, with_codebook_fallback
from models.methods import SuggestOptions
from models.project_coder import ProjectCoder
from models.suggesters import PrototypeSuggester
from models.testing import HashingEncoder

# Written for this test, not taken from the codebook's examples.
SENTENCES = {
    "Someone could slip manipulated records into the data we train on so that the model "
    "learns the wrong thing.": "A.1",
    "An attacker might query our API thousands of times to build a copy of our model.": "A.3",
    "We strip names and addresses from the customer records before anyone sees them.": "D.6",
    "Before release, our models go through a penetration test by an external firm.": "D.5",
    "Honestly, I do not think anybody would bother to attack a small company like ours.": "L.3",
}


@pytest.fixture(scope="module")
def cold_coder() -> ProjectCoder:
    return ProjectCoder(SentenceTransformerEncoder()).fit(None, load_codebook("interview"))


@pytest.mark.slow
def test_cold_start_ranks_the_right_code_near_the_top(cold_coder: ProjectCoder) -> None:
    units = cold_coder.suggest(units_of(list(SENTENCES)), SuggestOptions(top=3))
    for unit, expected in zip(units, SENTENCES.values(), strict=True):
        top_three = [code.code for code in unit.codes[:3]]
        assert expected in top_three, (unit.text, top_three)
        supporting = next(code for code in unit.codes if code.code == expected).supporting
        assert supporting, "evidence comes from the codebook's own texts"
        assert all(evidence.exemplar_id < 0 for evidence in supporting)


@pytest.mark.slow
def test_cold_start_evidence_names_the_codebook_version(cold_coder: ProjectCoder) -> None:
    [unit] = cold_coder.suggest(units_of(["We retrain the model every month."]))
    assert unit.codebook_version == load_codebook("interview").version
    assert unit.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2@")


# Written for this test; none of them is in the background set.
SMALL_TALK = ["Uh-huh, right.", "Sure, please keep going.", "Hello there, thanks for coming."]


@pytest.mark.slow
def test_cold_start_leaves_small_talk_uncoded(cold_coder: ProjectCoder) -> None:
    assert cold_coder.state.cold_start
    units = cold_coder.suggest(units_of(SMALL_TALK))
    assert [unit.suggested for unit in units] == [[]] * len(SMALL_TALK)
    background_ids = _background_ids()
    for unit in units:
        assert unit.no_code
        assert {e.exemplar_id for e in unit.no_code_evidence} <= background_ids


@pytest.mark.slow
def test_cold_start_still_codes_content(cold_coder: ProjectCoder) -> None:
    units = cold_coder.suggest(units_of(list(SENTENCES)))
    assert sum(bool(unit.suggested) for unit in units) >= len(SENTENCES) - 1


def _background_ids() -> set[int]:
    exemplars = cold_start_exemplars(load_codebook("interview"), HashingEncoder())
    return {int(i) for i, codes in zip(exemplars.ids, exemplars.codes, strict=True) if not codes}


def test_cold_start_exemplars_have_negative_ids_that_agree_with_the_fallback() -> None:
    book, encoder = load_codebook("interview"), HashingEncoder()
    exemplars = cold_start_exemplars(book, encoder)
    from_codebook = codebook_exemplars(book, encoder)
    assert len(exemplars) == len(from_codebook) + len(load_background())
    assert list(exemplars.ids) == list(-1 - np.arange(len(exemplars)))
    fallback = with_codebook_fallback(from_codebook.subset([]), from_codebook)
    assert list(fallback.ids) == list(exemplars.ids[: len(from_codebook)])
    assert exemplars.texts[: len(from_codebook)] == from_codebook.texts
    background = exemplars.codes[len(from_codebook) :]
    assert background
    assert not any(background)


def test_background_groups_keep_related_sentences_together() -> None:
    exemplars = cold_start_exemplars(load_codebook("interview"), HashingEncoder())
    by_text = dict(zip(exemplars.texts, exemplars.groups, strict=True))
    assert by_text["Yeah."] == by_text["Mm-hmm."] != by_text["Go on."]
    assert len(set(exemplars.groups)) < len(exemplars)
    plain = cold_start_exemplars(load_codebook("interview"), HashingEncoder(), background=False)
    assert not any(not codes for codes in plain.codes)


def test_background_is_never_evidence_for_a_code() -> None:
    suggester = fit_cold_start(load_codebook("interview"), HashingEncoder(), top_n=10)
    units = suggester.suggest(
        HashingEncoder().encode(["Thanks, go on.", "Yeah, someone could poison our data."]),
        ["Thanks, go on.", "Yeah, someone could poison our data."],
        "test-hashing-encoder",
    )
    for unit in units:
        for code in unit.codes:
            assert all(evidence.codes == [code.code] for evidence in code.supporting)


def test_a_coder_without_exemplars_gets_the_cold_start_whatever_its_method() -> None:
    book = load_codebook("interview")
    for method in ("linear", "knn", "prototype"):
        coder = ProjectCoder(HashingEncoder(), method).fit(None, book)
        assert coder.state.cold_start
        assert coder.state.method == "prototype"
        [unit] = coder.suggest(units_of(["Yeah, someone could poison our data."]))
        evidence = [e.exemplar_id for code in unit.codes for e in code.supporting]
        assert all(id_ < 0 for id_ in evidence)


def test_cold_start_ranks_codes_exactly_as_the_plain_prototype() -> None:
    book, encoder = load_codebook("interview"), HashingEncoder()
    exemplars = cold_start_exemplars(book, encoder)
    plain = PrototypeSuggester().fit(exemplars, book)
    cold = ColdStartSuggester().fit(exemplars, book)
    vectors = encoder.encode(["The model learns from poisoned labels.", "Okay, thank you."])
    plain_scores, cold_scores = plain.scores(vectors), cold.scores(vectors)
    # Equal ranks among the codes the plain prototype scores above 0 (it clips at 0).
    for plain_row, cold_row in zip(plain_scores, cold_scores, strict=True):
        positive = plain_row > 0
        assert list(np.argsort(-plain_row[positive], kind="stable")) == list(
            np.argsort(-cold_row[positive], kind="stable")
        )
