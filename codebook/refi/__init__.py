"""REFI-QDA: codebooks and coded projects exchanged with NVivo, MAXQDA, ATLAS.ti and others.

::

    read_qdc(bytes) -> Codebook           write_qdc(Codebook) -> bytes
    read_qdpx(bytes) -> RefiProject       write_qdpx(RefiProject, machine=...) -> bytes
    read_refi_file(path) -> RefiProject   project_from_parts(name, codebook, ...) -> RefiProject

Lenient reading, strict writing: files from real programs are read whatever namespace variant,
``.qde`` name, ``Sources/`` case, byte-order mark, line breaks or GUID spelling they use, and
what intercoder writes validates against the REFI-QDA 1.0 schemas packaged in ``schemas/``.
Reading is safe: XML goes through defusedxml, zip archives are checked against
:class:`RefiLimits` and read into memory only, and every problem is a
:class:`~codebook.errors.RefiFileError` naming the file and what is wrong.

Where the rules live: codes, descriptions and the intercoder note in :mod:`.codes`; offsets
(code points, or NVivo for Windows' UTF-16) in :mod:`.offsets`; the overlap rule that turns
highlighted spans into coded sentences in :mod:`.overlap`; sources, users and what is skipped
in :mod:`.qdpx_read`; the machine coder in :mod:`.qdpx_write`; archive limits in :mod:`.limits`.
"""

from __future__ import annotations

from codebook.refi.limits import RefiLimits
from codebook.refi.model import (
    UNKNOWN_CODER,
    MachineCodings,
    RefiProject,
    RefiSelection,
    RefiSource,
    machine_user_name,
)
from codebook.refi.overlap import OverlapRule
from codebook.refi.parts import project_from_parts
from codebook.refi.qdc import read_qdc, write_qdc
from codebook.refi.qdpx_read import read_qdpx, read_refi_file
from codebook.refi.qdpx_write import write_qdpx

__all__ = [
    "UNKNOWN_CODER",
    "MachineCodings",
    "OverlapRule",
    "RefiLimits",
    "RefiProject",
    "RefiSelection",
    "RefiSource",
    "machine_user_name",
    "project_from_parts",
    "read_qdc",
    "read_qdpx",
    "read_refi_file",
    "write_qdc",
    "write_qdpx",
]
