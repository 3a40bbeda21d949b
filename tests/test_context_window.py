"""The context-window lever (eval.context_window): windows, features, and both models learning
a code that only the previous turn reveals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eval.context_window import Dialogue, concat_features, predict_fold, previous_rows


def _turns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transcript_id": ["a", "a", "a", "b", "b"],
            "turn_index": [0, 1, 2, 0, 1],
            "speaker": ["t", "c", "t", "c", "t"],
            "text": ["1", "2", "3", "4", "5"],
        }
    )


def test_previous_rows_stop_at_the_transcript_start() -> None:
    before = previous_rows(_turns(), 2)
    assert before.tolist() == [[-1, -1], [0, -1], [1, 0], [-1, -1], [3, -1]]


def test_concat_features_hold_the_unit_the_previous_turns_and_flags() -> None:
    vectors = np.eye(5, dtype=np.float32)
    speakers = _turns()["speaker"].to_numpy()
    rows = np.array([2, 4])
    features = concat_features(vectors, speakers, rows, previous_rows(_turns(), 2)[rows])
    # unit (5) + previous turn (5 + same-speaker flag + present flag) x 2
    assert features.shape == (2, 5 + 7 + 7)
    assert features[0, :5].tolist() == vectors[2].tolist()
    assert features[0, 5:10].tolist() == vectors[1].tolist()  # turn 1 said just before
    assert features[0, 10:12].tolist() == [0.0, 1.0]  # another speaker, present
    assert features[0, 12:17].tolist() == vectors[0].tolist()
    assert features[0, 17:19].tolist() == [1.0, 1.0]  # the same speaker, present
    assert features[1, 12:19].tolist() == [0.0] * 7  # transcript b has one turn before 4


def _dialogue_coded_by_the_previous_turn(seed: int = 0) -> tuple[Dialogue, np.ndarray]:
    """Pairs of turns: a prompt of kind A or B, then a reply whose code is the prompt's kind.
    The replies' own vectors are noise, so only the previous turn tells the code."""
    rng = np.random.default_rng(seed)
    pairs, dim = 300, 16
    kinds = rng.integers(0, 2, size=pairs)
    prompts = np.where(kinds[:, None] == 1, 1.0, -1.0) * np.ones((pairs, dim))
    prompts += rng.normal(0, 0.3, size=(pairs, dim))
    replies = rng.normal(0, 1.0, size=(pairs, dim))
    vectors = np.empty((2 * pairs, dim), dtype=np.float32)
    vectors[0::2], vectors[1::2] = prompts, replies
    transcripts = [f"t{i // 10}" for i in range(pairs) for _ in range(2)]
    turns = pd.DataFrame(
        {
            "transcript_id": transcripts,
            "turn_index": list(range(2 * pairs)),
            "speaker": ["therapist", "client"] * pairs,
            "text": [str(i) for i in range(2 * pairs)],
        }
    )
    dialogue = Dialogue(
        turns=turns,
        coded_rows=np.arange(1, 2 * pairs, 2, dtype=np.intp),
        labels=np.array(["A" if kind else "B" for kind in kinds]),
        groups=tuple(transcripts[1::2]),
    )
    return dialogue, vectors


@pytest.mark.parametrize("model", ["concat", pytest.param("attention", marks=pytest.mark.slow)])
def test_a_window_of_one_learns_what_only_the_previous_turn_says(model: str) -> None:
    dialogue, vectors = _dialogue_coded_by_the_previous_turn()
    train, test = np.arange(0, 200, dtype=np.intp), np.arange(200, 300, dtype=np.intp)
    truth = dialogue.labels[test]
    alone = predict_fold(model, dialogue, vectors, 0, train, test)
    with_context = predict_fold(model, dialogue, vectors, 1, train, test)
    assert (with_context == truth).mean() >= 0.95
    assert (alone == truth).mean() <= 0.7  # noise: about half right
