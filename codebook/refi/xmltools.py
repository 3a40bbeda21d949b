"""REFI-QDA XML: read safely and leniently, write strictly.

Reading goes through defusedxml, which refuses DTD entity declarations and external references:
they are how entity-expansion ("billion laughs") and file-disclosure (XXE) attacks work, and no
QDA program needs them. Namespaces are ignored on reading, because real files use
``urn:QDA-XML:codebook:1.0``, ``:1:0``, ``:0:4`` or none at all; elements are found by local name.
GUIDs are accepted braced or not, in any case, and kept lower-case without braces.

Writing uses the 1.0 namespaces only, drops the few characters XML 1.0 cannot hold, and checks
the document against the packaged REFI schema (``schemas/``) before it leaves intercoder.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from codebook.errors import RefiFileError
from codebook.validation import normalise_guid

CODEBOOK_NAMESPACE = "urn:QDA-XML:codebook:1.0"
PROJECT_NAMESPACE = "urn:QDA-XML:project:1.0"
ORIGIN = "intercoder"
NOTE_TARGET = "intercoder"
"""Target of the processing instruction holding what REFI-QDA has no place for (see codes.py)."""

_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://intercoder.invalid/refi-qda")
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_xml(data: bytes, where: str, max_bytes: int) -> ET.Element:
    """The root element of ``data``; RefiFileError for entities, bad XML or too many bytes."""
    if len(data) > max_bytes:
        raise RefiFileError(
            f"{where} is {len(data)} bytes of XML, over the limit of {max_bytes}; "
            "raise max_xml_bytes in the REFI-QDA limits if the file is genuine"
        )
    parser = DefusedXMLParser(target=ET.TreeBuilder(insert_pis=True))
    try:
        parser.feed(data)
        root: ET.Element = parser.close()
    except DefusedXmlException as error:
        raise RefiFileError(
            f"{where} declares XML entities or external references ({error}); intercoder "
            "refuses them because they are how entity-expansion and file-disclosure attacks "
            "work, and REFI-QDA files never need them; export the file again from the QDA "
            "program, or remove the <!DOCTYPE ...> block"
        ) from None
    except ET.ParseError as error:
        raise RefiFileError(
            f"{where} is not well-formed XML ({error}); export it again from the QDA program"
        ) from None
    return root


def local_name(tag: object) -> str:
    """An element's name without its namespace; "" for comments and processing instructions."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def children(element: ET.Element, name: str) -> Iterator[ET.Element]:
    """The direct children with this local name, in document order."""
    return (item for item in element if local_name(item.tag) == name)


def child(element: ET.Element, name: str) -> ET.Element | None:
    """The first direct child with this local name."""
    return next(children(element, name), None)


def child_text(element: ET.Element, name: str) -> str:
    """The text of the first child with this local name ("" when absent)."""
    found = child(element, name)
    return (found.text or "") if found is not None else ""


def guid_of(element: ET.Element, attribute: str, where: str) -> str:
    """A required GUID attribute, normalised; RefiFileError when absent or malformed."""
    value = element.get(attribute)
    guid = normalise_guid(value)
    if guid is None:
        found = "none" if value is None else repr(value)
        raise RefiFileError(
            f"{where}: <{local_name(element.tag)}> needs a {attribute} GUID (8-4-4-4-12 hex "
            f"digits, braces allowed), found {found}; export the file again from the QDA program"
        )
    return guid


def optional_guid(element: ET.Element, attribute: str) -> str | None:
    """A GUID attribute normalised, or None when absent or malformed (user references)."""
    return normalise_guid(element.get(attribute))


def derived_guid(*parts: str) -> str:
    """A GUID that depends only on ``parts``, so that exporting the same thing twice agrees."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts)))


def note_of(element: ET.Element) -> Any:
    """The parsed JSON of an ``<?intercoder ...?>`` child, or None."""
    for item in element:
        if not isinstance(item.tag, str) and item.text:
            target, _, data = item.text.partition(" ")
            if target == NOTE_TARGET:
                try:
                    return json.loads(data)
                except ValueError:
                    return None
    return None


def note_element(data: object) -> ET.Element[Any]:
    """An ``<?intercoder {json}?>`` processing instruction; '>' is escaped so '?>' never occurs."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace(">", "\\u003e")
    return ET.ProcessingInstruction(NOTE_TARGET, text)


def clean(text: str) -> str:
    """``text`` without the control characters and lone surrogates XML 1.0 cannot carry."""
    return _NOT_IN_XML.sub("", text)


def add(
    parent: ET.Element, tag: str, text: str | None = None, **attributes: str | None
) -> ET.Element:
    """Append a child element; attributes that are None are left out, values are cleaned."""
    element = ET.SubElement(
        parent, tag, {key: clean(value) for key, value in attributes.items() if value is not None}
    )
    if text is not None:
        element.text = clean(text)
    return element


def serialise(root: ET.Element, namespace: str, schema: str) -> bytes:
    """The document as UTF-8 bytes in ``namespace``, after checking it against ``schema``."""
    root.set("xmlns", namespace)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
    check_schema(document, schema)
    return document


def check_schema(document: bytes, schema: str) -> None:
    """Raise RuntimeError (a bug in intercoder, not in the user's data) when invalid."""
    from lxml import etree

    parsed = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    validator = _schema(schema)
    if not validator.validate(parsed):
        first = validator.error_log[0]
        raise RuntimeError(
            f"intercoder wrote a document that fails the REFI-QDA schema {schema} "
            f"(line {first.line}: {first.message}); this is a bug in intercoder, please report it"
        )


@lru_cache(maxsize=2)
def _schema(name: str) -> Any:
    from lxml import etree

    resource = resources.files("codebook.refi").joinpath("schemas").joinpath(name)
    with resources.as_file(resource) as path:
        return etree.XMLSchema(etree.parse(str(path)))
