"""What an encoder reads for a unit: the text alone, or speaker, text and the previous unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.cache import CachedEncoder, EmbeddingCache
from models.context import (
    PREVIOUS_WORDS_KEPT,
    UnitContext,
    contextual_text,
    encode_units,
    encoder_inputs,
    units_of,
    units_of_frame,
)
from models.testing import HashingEncoder


class ContextualHashingEncoder(HashingEncoder):
    """The hashing test encoder posing as a project model trained with one previous unit."""

    context_turns = 1


def test_contextual_text_puts_the_unit_first_and_the_previous_turn_after_the_separator() -> None:
    unit = UnitContext("So you feel stuck.", "therapist", "I can't stop smoking.")
    assert contextual_text(unit) == "therapist: So you feel stuck. [SEP] I can't stop smoking."


def test_contextual_text_without_context_is_the_text_with_its_speaker() -> None:
    assert contextual_text(UnitContext("Hello.")) == "Hello."
    assert contextual_text(UnitContext("Hello.", "client")) == "client: Hello."


def test_only_the_end_of_a_long_previous_turn_is_kept() -> None:
    previous = " ".join(f"w{i}" for i in range(200))
    kept = contextual_text(UnitContext("Yes.", "", previous)).split(" [SEP] ")[1].split()
    assert kept == [f"w{i}" for i in range(200 - PREVIOUS_WORDS_KEPT, 200)]


def test_encoder_inputs_follow_the_context_the_model_was_trained_with() -> None:
    units = units_of(["b"], ["client"], ["a"])
    assert encoder_inputs(units, 0) == ["b"]
    assert encoder_inputs(units, 1) == ["client: b [SEP] a"]
    with pytest.raises(ValueError, match="context_turns must be 0 or 1"):
        encoder_inputs(units, 2)


def test_units_of_refuses_columns_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="as long as each other"):
        units_of(["a", "b"], ["x"])


def test_units_of_frame_reads_optional_columns() -> None:
    frame = pd.DataFrame({"text": ["a", "b"], "speaker": ["T", "C"], "previous_text": ["", "a"]})
    assert units_of_frame(frame)[1] == UnitContext("b", "C", "a")
    assert units_of_frame(frame[["text"]])[1] == UnitContext("b")


def test_frozen_encoder_reads_text_alone_and_project_model_reads_context() -> None:
    units = units_of(["the same words"] * 2, ["T", "T"], ["first context", "other context"])
    frozen, tuned = HashingEncoder(), ContextualHashingEncoder()
    assert frozen.context_turns == 0
    assert tuned.context_turns == 1
    frozen_vectors = encode_units(frozen, units)
    tuned_vectors = encode_units(tuned, units)
    assert np.allclose(frozen_vectors[0], frozen_vectors[1])
    assert not np.allclose(tuned_vectors[0], tuned_vectors[1])
    assert tuned.calls[-1][0] == "T: the same words [SEP] first context"


def test_cached_encoder_keeps_the_wrapped_encoders_context(tmp_path: object) -> None:
    from pathlib import Path

    cache = EmbeddingCache(Path(str(tmp_path)) / "cache.sqlite")
    assert CachedEncoder(ContextualHashingEncoder(), cache).context_turns == 1
    assert CachedEncoder(HashingEncoder(), cache).context_turns == 0
