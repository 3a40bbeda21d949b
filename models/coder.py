"""A coder: an encoder and a suggester together, from texts to suggestions.

This is what the CLI and the service use. It fits on a coded-units table (embedding its texts
once, through the encoder's cache when it has one), or on the codebook alone for the cold
start, and suggests codes for new texts.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from codebook.errors import NotFittedError
from codebook.model import Codebook
from models.encoder import Encoder
from models.exemplars import Exemplars, codebook_exemplars, exemplars_from_frame
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
            exemplars = _with_codebook_for_uncoded_codes(exemplars, codebook, self.encoder)
        self.suggester.fit(exemplars, codebook)
        self.codebook_ = codebook
        return self

    def fit_cold_start(self, codebook: Codebook) -> Self:
        """Learn from the codebook's definitions and examples alone (no coded data yet)."""
        self.suggester.fit(codebook_exemplars(codebook, self.encoder), codebook)
        self.codebook_ = codebook
        return self

    def suggest(self, texts: list[str]) -> list[UnitSuggestion]:
        if not hasattr(self, "codebook_"):
            raise NotFittedError(
                "this Coder is not fitted yet: call fit(coded, codebook) or "
                "fit_cold_start(codebook) before suggest()"
            )
        vectors = self.encoder.encode(list(texts))
        return self.suggester.suggest(vectors, list(texts), self.encoder.model_id)


def _with_codebook_for_uncoded_codes(
    exemplars: Exemplars, codebook: Codebook, encoder: Encoder
) -> Exemplars:
    """Add the codebook's own texts for every code no human exemplar carries yet.

    They get negative exemplar ids so evidence shows they are the codebook's, not a coder's.
    """
    seen = set().union(*exemplars.codes) if len(exemplars) else set()
    from_codebook = codebook_exemplars(codebook, encoder)
    keep = [row for row, codes in enumerate(from_codebook.codes) if not codes & seen]
    if not keep:
        return exemplars
    extra = from_codebook.subset(keep)
    return Exemplars(
        model_id=exemplars.model_id,
        vectors=np.vstack([exemplars.vectors, extra.vectors]),
        codes=exemplars.codes + extra.codes,
        texts=exemplars.texts + extra.texts,
        ids=np.concatenate([exemplars.ids, -1 - np.arange(len(extra), dtype=np.int64)]),
        groups=exemplars.group_labels() + tuple(f"codebook:{t}" for t in extra.texts),
    )
