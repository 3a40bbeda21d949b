"""What the encoder reads for one unit: the unit itself, its speaker, and the turn before it.

A code often hangs on what the unit answers ("yes" to a question is not "yes" to a reflection),
so a tuned encoder reads each unit with its speaker role and the previous turn. The frozen
encoder reads the unit alone: measured on AnnoMI, giving it the previous turn brought no gain.
Every place that embeds units (training, cross-validation, CLI, service) builds the encoder's
input here, so a model always reads at suggestion time what it read in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from models.encoder import Embeddings, Encoder

# The tokenizer cuts from the end; only the previous turn's last words are kept so that the
# unit itself is never what gets cut, and the nearest context survives.
PREVIOUS_WORDS_KEPT = 48
SEPARATOR = " [SEP] "


@dataclass(frozen=True)
class UnitContext:
    """One unit to embed: its text, who said it, and the turn said before it ("" if none)."""

    text: str
    speaker: str = ""
    previous_text: str = ""


def contextual_text(unit: UnitContext) -> str:
    """ "speaker: text [SEP] previous turn" (the separator is the tokenizer's own token)."""
    head = f"{unit.speaker}: {unit.text}" if unit.speaker else unit.text
    words = unit.previous_text.split()
    if not words:
        return head
    return head + SEPARATOR + " ".join(words[-PREVIOUS_WORDS_KEPT:])


def encoder_inputs(units: Sequence[UnitContext], context_turns: int) -> list[str]:
    """The strings an encoder trained with ``context_turns`` previous turns reads (0 or 1)."""
    if context_turns not in (0, 1):
        raise ValueError(f"context_turns must be 0 or 1, got {context_turns}")
    if context_turns == 0:
        return [unit.text for unit in units]
    return [contextual_text(unit) for unit in units]


def units_of(
    texts: Sequence[str],
    speakers: Sequence[str] | None = None,
    previous_texts: Sequence[str] | None = None,
) -> list[UnitContext]:
    """Units from parallel columns; missing columns mean no speaker and no previous turn."""
    count = len(texts)
    speakers = speakers if speakers is not None else [""] * count
    previous_texts = previous_texts if previous_texts is not None else [""] * count
    if len(speakers) != count or len(previous_texts) != count:
        raise ValueError(
            f"texts, speakers and previous texts must be as long as each other, got {count}, "
            f"{len(speakers)} and {len(previous_texts)}"
        )
    return [
        UnitContext(str(text), str(speaker), str(previous))
        for text, speaker, previous in zip(texts, speakers, previous_texts, strict=True)
    ]


def preceding_texts(texts: Sequence[str], before: str = "") -> list[str]:
    """The previous text of each of a run of consecutive units of one transcript: the unit
    before it; for the first, ``before`` (the text just before the run, "" at the start)."""
    return [before, *texts[:-1]] if texts else []


def units_of_frame(frame: pd.DataFrame) -> list[UnitContext]:
    """The units of a coded-units table (its ``speaker`` and ``previous_text`` when present)."""

    def column(name: str) -> list[str] | None:
        return [str(value) for value in frame[name]] if name in frame.columns else None

    return units_of(
        [str(text) for text in frame["text"]], column("speaker"), column("previous_text")
    )


def encode_units(encoder: Encoder, units: Sequence[UnitContext]) -> Embeddings:
    """Embed units the way the encoder was trained to read them (with context or without)."""
    return encoder.encode(encoder_inputs(units, encoder.context_turns))
