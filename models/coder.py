"""A coder: an encoder and a suggester together, from texts to suggestions.

This is what the CLI and the service use. It fits on a coded-units table (embedding its texts
once, through the encoder's cache when it has one), or on the codebook alone for the cold
start, and suggests codes for new texts.
"""

from __future__ import annotations

from typing import Self

import pandas as pd

from codebook.errors import NotFittedError
from codebook.model import Codebook
from models.cold_start import ColdStartSuggester
from models.context import encode_units, units_of
from models.encoder import Encoder
from models.exemplars import (
    codebook_exemplars,
    cold_start_exemplars,
    exemplars_from_frame,
    with_codebook_fallback,
)
from models.suggesters import BaseSuggester, PrototypeSuggester
from models.suggestions import UnitSuggestion


class Coder:
    """Suggest codes for texts with ``suggester`` over ``encoder``'s embeddings."""

    def __init__(self, encoder: Encoder, suggester: BaseSuggester) -> None:
        self.encoder = encoder
        self.suggester = suggester

    def fit(self, coded: pd.DataFrame, codebook: Codebook) -> Self:
        """Learn from a coded-units table (one coding per unit)."""
        exemplars = exemplars_from_frame(coded, self.encoder)
        if isinstance(self.suggester, PrototypeSuggester):
            from_codebook = codebook_exemplars(codebook, self.encoder)
            exemplars = with_codebook_fallback(exemplars, from_codebook)
        self.suggester.fit(exemplars, codebook)
        self.codebook_ = codebook
        return self

    def fit_cold_start(self, codebook: Codebook, *, background: bool = True) -> Self:
        """Learn from the codebook's definitions and examples alone (no coded data yet).

        With ``background`` (the default) the shipped background set joins them uncoded, and a
        prototype suggester becomes a :class:`ColdStartSuggester` with the same parameters, so
        back-channels and small talk get "no code". ``background=False`` is the plain
        prototype cold start of before, kept for comparison (eval/bench_cold_start.py).
        """
        if background and isinstance(self.suggester, PrototypeSuggester):
            self.suggester = ColdStartSuggester.like(self.suggester)
        exemplars = cold_start_exemplars(codebook, self.encoder, background=background)
        self.suggester.fit(exemplars, codebook)
        self.codebook_ = codebook
        return self

    def suggest(
        self,
        texts: list[str],
        speakers: list[str] | None = None,
        previous_texts: list[str] | None = None,
    ) -> list[UnitSuggestion]:
        """Suggestions per text; a project model also reads each one's speaker and previous
        turn (parallel lists; missing means none), as it did in training."""
        if not hasattr(self, "codebook_"):
            raise NotFittedError(
                "this Coder is not fitted yet: call fit(coded, codebook) or "
                "fit_cold_start(codebook) before suggest()"
            )
        vectors = encode_units(self.encoder, units_of(list(texts), speakers, previous_texts))
        return self.suggester.suggest(vectors, list(texts), self.encoder.model_id)
