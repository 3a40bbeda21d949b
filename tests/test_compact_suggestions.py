"""The columns a batch run writes (``ProjectCoder.suggest_compact``) say what the full answers
(``ProjectCoder.suggest``) say: decided and shown codes, scores, confidence, "no code",
abstention, skipped speakers, and the nearest supporting exemplar of each decided code."""

from __future__ import annotations

import pandas as pd
import pytest

from codebook.loader import load_codebook
from models.context import UnitContext
from models.methods import METHOD_NAMES, SuggestOptions
from models.project_coder import ProjectCoder
from models.suggestions import UnitSuggestion
from models.testing import HashingEncoder
from tests.batch_support import CODED_CSV, units_table


def _coder(method: str) -> ProjectCoder:
    from io import StringIO

    from codebook.coded_csv import read_coded_csv

    book = load_codebook("interview")
    coded = read_coded_csv(StringIO(CODED_CSV), book)
    return ProjectCoder(HashingEncoder(), method, index_kind="exact").fit_frame(coded, book)


def _units() -> list[UnitContext]:
    table = units_table(60, 3, seed=3)
    speakers = ["Interviewer" if i % 4 == 0 else "P1" for i in range(len(table))]
    return [
        UnitContext(text, speaker) for text, speaker in zip(table["text"], speakers, strict=True)
    ]


def _evidence_ids(answer: UnitSuggestion) -> list[int]:
    if answer.abstained:
        return []
    if answer.no_code:
        return [evidence.exemplar_id for evidence in answer.no_code_evidence[:1]]
    decided = set(answer.suggested)
    return [c.supporting[0].exemplar_id for c in answer.codes if c.code in decided and c.supporting]


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("abstain_below", [0.0, 0.3])
def test_compact_columns_equal_the_full_answers(method: str, abstain_below: float) -> None:
    coder = _coder(method)
    options = SuggestOptions(top=4, evidence=2, abstain_below=abstain_below)
    units = _units()
    full = coder.suggest(units, options)
    compact = coder.suggest_compact(units, options)
    assert compact.skipped == [answer.skipped for answer in full]
    assert any(compact.skipped)
    assert not all(compact.skipped)
    assert compact.suggested == [answer.suggested for answer in full]
    assert compact.codes == [[code.code for code in answer.codes] for answer in full]
    assert compact.scores == [[code.score for code in answer.codes] for answer in full]
    assert compact.confidence == [answer.confidence for answer in full]
    assert compact.no_code == [answer.no_code for answer in full]
    assert compact.abstained == [answer.abstained for answer in full]
    assert compact.evidence_ids == [_evidence_ids(answer) for answer in full]
    if abstain_below:
        assert any(compact.abstained) or method == "prototype"


def test_the_cold_start_gives_the_same_columns_too() -> None:
    coder = ProjectCoder(HashingEncoder(), index_kind="exact").fit(None, load_codebook("interview"))
    units = _units()
    full = coder.suggest(units)
    compact = coder.suggest_compact(units)
    assert compact.suggested == [answer.suggested for answer in full]
    assert compact.scores == [[code.score for code in answer.codes] for answer in full]
    assert compact.evidence_ids == [_evidence_ids(answer) for answer in full]
    assert any(compact.no_code)


def test_only_skipped_units_give_empty_rows() -> None:
    coder = _coder("linear")
    units = [UnitContext("Hello there.", "Interviewer")] * 3
    compact = coder.suggest_compact(units, SuggestOptions())
    assert compact.skipped == [True] * 3
    assert compact.codes == [[], [], []]
    assert pd.isna(pd.Series(compact.confidence)).sum() == 0
