"""REFI-QDA codebook files (.qdc): one ``<CodeBook>`` with ``<Codes>`` and optional ``<Sets>``.

How codes, descriptions, sets and intercoder's own fields map is in :mod:`codebook.refi.codes`.
A .qdc has no name for the codebook; one not written by intercoder is named after its file
(``source``), or "REFI-QDA codebook" when there is no file name, and its ``source`` is the
``origin`` the program wrote (``ATLAS.ti Win 23.4.0``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import PurePath

from codebook.errors import RefiFileError
from codebook.model import Codebook
from codebook.refi.codes import codebook_from_xml, codes_to_xml, sets_to_xml
from codebook.refi.limits import DEFAULT_LIMITS, RefiLimits
from codebook.refi.xmltools import (
    CODEBOOK_NAMESPACE,
    ORIGIN,
    child,
    children,
    local_name,
    parse_xml,
    serialise,
)

DEFAULT_NAME = "REFI-QDA codebook"


def read_qdc(
    data: bytes, *, source: str = "<qdc>", limits: RefiLimits = DEFAULT_LIMITS
) -> Codebook:
    """The codebook in a .qdc file's bytes; RefiFileError naming ``source`` when it is bad."""
    root = parse_xml(data, f"REFI-QDA codebook {source}", limits.max_xml_bytes)
    if local_name(root.tag) != "CodeBook":
        raise RefiFileError(
            f"REFI-QDA codebook {source} has a <{local_name(root.tag)}> root element where a "
            "<CodeBook> was expected; give a .qdc codebook file (a .qdpx is a project)"
        )
    sets = child(root, "Sets")
    return codebook_from_xml(
        root,
        children(sets, "Set") if sets is not None else (),
        name=name_from_source(source),
        source=root.get("origin") or "",
        where=f"REFI-QDA codebook {source}",
    )


def write_qdc(codebook: Codebook) -> bytes:
    """The codebook as a .qdc file, checked against Codebook.xsd; read_qdc gives it back equal."""
    root = ET.Element("CodeBook", origin=ORIGIN)
    codes_to_xml(root, codebook)
    sets_to_xml(root, codebook, "guid")
    return serialise(root, CODEBOOK_NAMESPACE, "Codebook.xsd")


def name_from_source(source: str) -> str:
    """A codebook name from a file name ("study.qdc" -> "study"); the default for labels."""
    if source.startswith("<"):
        return DEFAULT_NAME
    return PurePath(source).stem.strip() or DEFAULT_NAME
