"""The cold start: what a coder learns from when nobody has coded anything yet.

The codebook's own texts (each code's definition and examples) stand in for coded exemplars.
They carry negative exemplar ids (-1 - their position), everywhere, so a coder can always tell
evidence from the codebook apart from a human coding.
"""

from __future__ import annotations

import dataclasses

from codebook.model import Codebook
from models.encoder import Encoder
from models.exemplars import Exemplars, codebook_exemplars


def cold_start_exemplars(codebook: Codebook, encoder: Encoder) -> Exemplars:
    """The codebook's definitions and examples as exemplars, under negative ids."""
    from_codebook = codebook_exemplars(codebook, encoder)
    return dataclasses.replace(from_codebook, ids=-1 - from_codebook.ids)
