"""The harness's `tuned` methods: fine-tune per fold on the training units only, then a head on
the tuned embeddings, the same training a project gets from `intercoder train`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from codebook.coded import CodedUnit, coded_frame
from codebook.errors import UnknownNameError
from codebook.loader import load_codebook
from eval.crossval import prepare
from eval.tuned import TunedMethod, tuned_embeddings
from models.finetune import TrainConfig
from models.project_model import train_project_model
from models.testing import HashingEncoder

CLIENT = load_codebook("annomi-client")
LINES = [
    ("How do you feel about smoking?", "I really want to quit this year.", "change"),
    ("Anything else?", "I like smoking, it calms me.", "sustain"),
    ("Where do you work?", "At the bank on Mondays.", "neutral"),
    ("What would help?", "I'm ready to cut down.", "change"),
    ("And your drinking?", "I don't see a problem with it.", "sustain"),
    ("Family nearby?", "My sister lives in Leeds.", "neutral"),
]
SMALL = TrainConfig(epochs=1, batch_size=4, max_steps=2)
TRAIN = np.arange(0, 9, dtype=np.intp)  # transcripts t0, t1, t2
TEST = np.arange(9, 12, dtype=np.intp)  # transcript t3


def _frame(test_codes: list[str] | None = None) -> pd.DataFrame:
    units = []
    for i, (question, answer, code) in enumerate(LINES * 2):
        if test_codes is not None and i in TEST:
            code = test_codes[i - int(TEST[0])]
        units.append(
            CodedUnit(
                transcript_id=f"t{i // 3}",
                unit_id=str(i),
                turn_index=i % 3,
                text=answer,
                codes=frozenset({code}),
                speaker="client",
                previous_text=question,
            )
        )
    return coded_frame(units)


def test_fold_predictions_have_one_row_per_test_unit_and_one_column_per_code() -> None:
    data = prepare(_frame(), CLIENT, HashingEncoder())
    prediction = TunedMethod("linear", SMALL).fit_predict(data, TRAIN, TEST)
    codes = len(CLIENT.codable_ids)
    assert prediction.decided.shape == (len(TEST), codes)
    assert prediction.scores.shape == (len(TEST), codes)
    assert prediction.confidence.shape == (len(TEST),)
    # talk type is one exclusive category: exactly one code per unit
    assert (prediction.decided.sum(axis=1) == 1).all()


def test_the_test_units_codes_never_reach_the_fine_tuning() -> None:
    original = prepare(_frame(), CLIENT, HashingEncoder())
    relabelled = prepare(_frame(["neutral", "neutral", "neutral"]), CLIENT, HashingEncoder())
    assert not original.frame["codes"].equals(relabelled.frame["codes"])
    rows_a, vectors_a = tuned_embeddings(original, TRAIN, TEST, SMALL)
    rows_b, vectors_b = tuned_embeddings(relabelled, TRAIN, TEST, SMALL)
    assert rows_a.tolist() == rows_b.tolist() == [*TRAIN, *TEST]
    np.testing.assert_allclose(vectors_a, vectors_b, atol=1e-6)


def test_a_fold_is_tuned_exactly_like_a_project_model_on_the_same_units() -> None:
    data = prepare(_frame(), CLIENT, HashingEncoder())
    _, vectors = tuned_embeddings(data, TRAIN, TEST, SMALL)
    project = train_project_model(_frame().iloc[TRAIN].reset_index(drop=True), CLIENT, SMALL)
    np.testing.assert_allclose(vectors[: len(TRAIN)], project.embeddings, atol=1e-5)


def test_every_engine_head_is_named_and_an_unknown_one_is_refused() -> None:
    assert TunedMethod("linear").name == "tuned"
    assert TunedMethod("knn").name == "tuned-knn"
    with pytest.raises(UnknownNameError, match="unknown head 'svm'"):
        TunedMethod("svm")
