"""The choices of a REFI-QDA import or export, apart from the work, so the CLI loads fast."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import PurePath

from codebook.errors import RefiFileError


class RefiFormat(enum.StrEnum):
    qdc = "qdc"
    """A codebook (Codebook Exchange)."""
    qdpx = "qdpx"
    """A project: codebook, sources, coders' selections (Project Exchange)."""


class Include(enum.StrEnum):
    """Whose codings a .qdpx export holds besides the coders'."""

    human = "human"
    """The coders only."""
    accepted = "accepted"
    """Also the suggestions coders accepted, as the machine user's codings."""
    suggested = "suggested"
    """Also the machine's suggestions for every sentence no coder has coded, made now."""


@dataclass(frozen=True)
class ImportOptions:
    """How selections become sentence codings: the overlap rule, and NVivo's offsets."""

    min_share: float = 0.5
    """A sentence takes a coder's code when that coder's selections cover this share of it."""
    utf16_offsets: bool = False
    """The file counts offsets in UTF-16 code units (NVivo for Windows)."""


def refi_format(filename: str, given: str | None = None) -> RefiFormat:
    """The format named, or the one the file name's extension tells."""
    wanted = given or PurePath(filename).suffix.lower().removeprefix(".")
    if wanted in RefiFormat.__members__:
        return RefiFormat(wanted)
    raise RefiFileError(
        f"{filename!r} is not a REFI-QDA file: expected a .qdpx project or a .qdc codebook "
        f"(found {('format ' + repr(given)) if given else 'the extension ' + repr(wanted)}); "
        "export one from ATLAS.ti, NVivo, MAXQDA or QualCoder (REFI-QDA export)"
    )
