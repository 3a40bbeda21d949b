"""Cold start with the real model: the shipped interview codebook, no coded data at all."""

from __future__ import annotations

import pytest

from codebook.loader import load_codebook
from models.context import units_of
from models.encoder import SentenceTransformerEncoder
from models.methods import SuggestOptions
from models.project_coder import ProjectCoder

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
        # the codebook's own texts: negative ids, never taken for a coder's coding
        assert all(evidence.exemplar_id < 0 for evidence in supporting)


@pytest.mark.slow
def test_cold_start_evidence_names_the_codebook_version(cold_coder: ProjectCoder) -> None:
    [unit] = cold_coder.suggest(units_of(["We retrain the model every month."]))
    assert unit.codebook_version == load_codebook("interview").version
    assert unit.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2@")
