"""What a REFI-QDA project holds for intercoder: sources, selections, and coded sentences.

A :class:`RefiProject` is what :func:`~codebook.refi.read_qdpx` returns and
:func:`~codebook.refi.write_qdpx` writes. Its ``selections`` are the codings exactly as the file
has them (kept for a faithful round trip); its ``coded`` table is what the rest of intercoder
uses: the same codings turned into coded sentences by an :class:`~codebook.refi.OverlapRule`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from codebook.model import Codebook
from codebook.transcripts.model import Sentence, Transcript

UNKNOWN_CODER = "unknown"
"""The coder of a coding that names no user."""


@dataclass(frozen=True)
class RefiSource:
    """One text source: its GUID and name in the file, its text, and its sentences.

    ``transcript.id`` is derived from ``name`` (unique within the project, see
    :func:`~codebook.refi.read_qdpx`); ``sentences`` are offsets into ``transcript.text``, and
    the coded table's ``unit_id`` is a sentence's ``index`` as text.
    """

    guid: str
    name: str
    transcript: Transcript
    sentences: tuple[Sentence, ...] = ()


@dataclass(frozen=True)
class RefiSelection:
    """One code applied by one coder to a span of a source, as found in the file.

    ``start`` and ``end`` are indexes into the source's ``transcript.text`` (code points, end
    exclusive) whatever the file counted. A ``<PlainTextSelection>`` carrying several codings
    gives one RefiSelection per coding, all with the selection's ``guid``.
    """

    source_guid: str
    start: int
    end: int
    code_id: str
    coder: str
    guid: str


@dataclass(frozen=True, eq=False)
class RefiProject:
    """A project: codebook, text sources, the file's codings and the coded-sentences table.

    ``coded`` has :data:`~codebook.coded.CODED_COLUMNS`: one row per sentence and coder, for
    every coder with at least one coding in that sentence's source; ``codes`` holds the codable
    codes that pass the overlap rule (possibly none); ``group`` is the transcript id.
    ``coders`` are the users with at least one coding, in the file's ``<Users>`` order.
    ``warnings`` say what was read leniently (at most one line per source). Two projects are
    equal when every field but the warnings is, the table compared cell by cell.
    """

    name: str
    codebook: Codebook
    sources: tuple[RefiSource, ...]
    selections: tuple[RefiSelection, ...]
    coded: pd.DataFrame
    coders: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def transcripts(self) -> tuple[Transcript, ...]:
        return tuple(source.transcript for source in self.sources)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RefiProject):
            return NotImplemented
        return (
            (self.name, self.codebook, self.sources, self.selections, self.coders)
            == (other.name, other.codebook, other.sources, other.selections, other.coders)
        ) and self.coded.reset_index(drop=True).equals(other.coded.reset_index(drop=True))


@dataclass(frozen=True, eq=False)
class MachineCodings:
    """The machine's codes for a project's sentences, to be written as a coder of their own.

    ``coded`` has :data:`~codebook.coded.CODED_COLUMNS`; rows are matched to the project's
    sentences by ``transcript_id`` and ``unit_id`` (other columns, ``coder`` included, are
    ignored), and each row with codes becomes one selection over its sentence under the user
    ``user_name`` (see :func:`machine_user_name`).
    """

    user_name: str
    coded: pd.DataFrame


def machine_user_name(model_name: str, method: str) -> str:
    """The REFI-QDA user the machine codes under, e.g. ``intercoder (all-MiniLM-L6-v2, knn)``."""
    return f"intercoder ({model_name}, {method})"
