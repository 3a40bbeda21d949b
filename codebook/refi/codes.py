"""Codebooks as REFI-QDA ``<Codes>`` and ``<Sets>``, both ways.

Reading. Nested ``<Code>`` elements give the hierarchy; ``isCodable="false"`` makes a category
(``codable=False``); a ``color`` that is ``#rgb`` or ``#rrggbb`` is kept (lower-case), any other
is dropped. A code's id is a slug of its name (lower-case ``[a-z0-9_]``, accents folded; "code"
when nothing is left), made unique by prefixing its parent's id, then by ``_2``, ``_3``...; its
GUID is kept in ``Code.guid``. ``<Set>`` members are found by ``guid`` (.qdc) or ``targetGUID``
(.qdpx), whichever is present.

Descriptions. REFI-QDA has one ``<Description>`` per code, so intercoder writes the definition
first, then one labelled paragraph (paragraphs are separated by a blank line) per extra field::

    Inclusion: ...
    Exclusion: ...
    Example: ...              (an example from the user; others say "Example (study): ...")
    Exclusive: at most one of the codes beneath this one applies to a sentence.

and reading splits a description the same way, so they survive a round trip through any QDA
program that keeps descriptions. An unlabelled paragraph after a labelled one continues it.

What REFI-QDA has no place for: the codebook's name, description and source, its speaker roles
(``speakers``, only when it declares some), each code's id and the codebook's order, travel in
an ``<?intercoder {json}?>`` processing instruction inside ``<CodeBook>``, which other programs
ignore. A file without one gets the name its caller gives and ids from names. GUIDs intercoder
invents for codes that had none (derived from the codebook name and code id, so re-exports
agree) are recognised on reading and dropped again.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from codebook.errors import CodebookError, RefiFileError
from codebook.loader import build_codebook
from codebook.model import Code, Codebook, CodeSet
from codebook.refi.xmltools import (
    add,
    child,
    child_text,
    children,
    derived_guid,
    guid_of,
    local_name,
    note_element,
    note_of,
)
from codebook.validation import normalise_guid

EXCLUSIVE_NOTE = "Exclusive: at most one of the codes beneath this one applies to a sentence."
_LABEL = re.compile(
    r"(?P<field>Inclusion|Exclusion|Exclusive|Example(?: \((?P<source>project|study|dataset)\))?)"
    r": ?"
)
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_PARAGRAPH = "\n\n"


@dataclass(frozen=True)
class _Entry:
    """One ``<Code>`` as read, before ids are given."""

    guid: str
    name: str
    parent: str | None
    description: str
    colour: str | None
    codable: bool


def code_guid(codebook: Codebook, code: Code) -> str:
    """The GUID a code is written with: its own, else one derived from codebook name and id."""
    return code.guid or derived_guid(codebook.name, "code", code.id)


def set_guid(codebook: Codebook, code_set: CodeSet) -> str:
    return code_set.guid or derived_guid(codebook.name, "set", code_set.name)


def codebook_from_xml(
    holder: ET.Element,
    sets: Iterable[ET.Element],
    *,
    name: str,
    source: str,
    where: str,
) -> Codebook:
    """The codebook under ``holder`` (a ``<CodeBook>``), with ``sets`` as its code sets."""
    codes_element = child(holder, "Codes")
    entries = list(_entries(codes_element, None, where)) if codes_element is not None else []
    if not entries:
        raise RefiFileError(f"{where} has no codes; export a codebook with at least one code")
    note = _note(note_of(holder))
    name = str(note.get("name") or name)
    ids = _assign_ids(entries, note.get("ids", {}))
    order = note.get("order", {})
    entries.sort(key=lambda entry: order.get(entry.guid, len(order)))
    data: dict[str, Any] = {
        "name": name,
        "description": str(note.get("description", "")),
        "source": str(note.get("source", source)),
        "codes": [_code_data(entry, ids, name) for entry in entries],
        "sets": [_set_data(item, ids, name, where) for item in sets if _is_code_set(item)],
    }
    if "speakers" in note:
        data["speakers"] = note["speakers"]
    try:
        return build_codebook(data)
    except CodebookError as error:
        raise RefiFileError(
            f"{where} holds a codebook intercoder cannot use: {error.message}; fix it in the "
            "QDA program and export it again",
            error.problems,
        ) from None


def codes_to_xml(parent: ET.Element, codebook: Codebook) -> None:
    """Append the note and ``<Codes>`` (nested, in codebook order) to ``parent``."""
    ids = {code_guid(codebook, code): code.id for code in codebook.codes}
    note: dict[str, Any] = {
        "name": codebook.name,
        "description": codebook.description,
        "source": codebook.source,
        "ids": ids,
        "order": list(ids),
    }
    # Only when declared, so files of codebooks without speaker roles stay byte for byte.
    if codebook.speakers.skip:
        note["speakers"] = {"skip": list(codebook.speakers.skip)}
    parent.append(note_element(note))
    codes = add(parent, "Codes")
    _add_children(codes, codebook, None)


def sets_to_xml(parent: ET.Element, codebook: Codebook, member_attribute: str) -> None:
    """Append ``<Sets>`` when the codebook has sets (an empty ``<Sets/>`` is invalid)."""
    if not codebook.sets:
        return
    sets = add(parent, "Sets")
    for code_set in codebook.sets:
        element = add(sets, "Set", guid=set_guid(codebook, code_set), name=code_set.name)
        if code_set.description:
            add(element, "Description", code_set.description)
        for code_id in code_set.codes:
            add(
                element,
                "MemberCode",
                **{member_attribute: code_guid(codebook, codebook.get(code_id))},
            )


def describe(code: Code) -> str:
    """The ``<Description>`` text: definition, then labelled paragraphs (module docstring)."""
    paragraphs = [code.definition] if code.definition else []
    paragraphs += [f"Inclusion: {code.inclusion}"] if code.inclusion else []
    paragraphs += [f"Exclusion: {code.exclusion}"] if code.exclusion else []
    for example in code.examples:
        label = "Example" if example.source == "user" else f"Example ({example.source})"
        paragraphs.append(f"{label}: {example.text}")
    paragraphs += [EXCLUSIVE_NOTE] if code.exclusive else []
    return _PARAGRAPH.join(paragraphs)


def parse_description(text: str) -> dict[str, Any]:
    """The code fields a description holds (inverse of :func:`describe`)."""
    groups: list[tuple[str, str, list[str]]] = [("definition", "", [])]
    for paragraph in text.strip().split(_PARAGRAPH) if text.strip() else []:
        label = _LABEL.match(paragraph)
        if label is None:
            groups[-1][2].append(paragraph)
        else:
            source = label.group("source") or "user"
            groups.append((label.group("field"), source, [paragraph[label.end() :]]))

    def joined(*kinds: str) -> str:
        return _PARAGRAPH.join(p for kind, _, ps in groups if kind in kinds for p in ps)

    exclusive = [paragraphs for kind, _, paragraphs in groups if kind == "Exclusive"]
    definition = [joined("definition"), *(_PARAGRAPH.join(ps[1:]) for ps in exclusive)]
    return {
        "definition": _PARAGRAPH.join(part for part in definition if part),
        "inclusion": joined("Inclusion"),
        "exclusion": joined("Exclusion"),
        "examples": [
            {"text": _PARAGRAPH.join(paragraphs), "source": source}
            for kind, source, paragraphs in groups
            if kind.startswith("Example") and _PARAGRAPH.join(paragraphs).strip()
        ],
        "exclusive": bool(exclusive),
    }


def _add_children(parent: ET.Element, codebook: Codebook, parent_id: str | None) -> None:
    for code in codebook.children(parent_id):
        element = add(
            parent,
            "Code",
            guid=code_guid(codebook, code),
            name=code.name,
            isCodable="true" if code.codable else "false",
            color=code.colour,
        )
        description = describe(code)
        if description:
            add(element, "Description", description)
        _add_children(element, codebook, code.id)


def _entries(codes: ET.Element, parent: str | None, where: str) -> Iterator[_Entry]:
    """Every ``<Code>`` beneath ``codes``, depth first, in document order."""
    for element in children(codes, "Code"):
        guid = guid_of(element, "guid", where)
        colour = (element.get("color") or "").strip()
        yield _Entry(
            guid=guid,
            name=(element.get("name") or "").strip(),
            parent=parent,
            description=child_text(element, "Description"),
            colour=colour if _COLOUR.fullmatch(colour) else None,
            codable=(element.get("isCodable") or "true").strip().lower() not in ("false", "0"),
        )
        yield from _entries(element, guid, where)


def _assign_ids(entries: list[_Entry], known: dict[str, str]) -> dict[str, str]:
    """GUID -> code id: the note's id where it has one, else a unique slug of the name."""
    ids = {entry.guid: known[entry.guid] for entry in entries if entry.guid in known}
    taken = set(ids.values())
    for entry in entries:
        if entry.guid in ids:
            continue
        base = slug(entry.name)
        candidates = [base]
        if entry.parent is not None:
            candidates.append(f"{ids[entry.parent]}_{base}")
        chosen = next((c for c in candidates if c not in taken), None)
        number = 2
        while chosen is None:
            if f"{candidates[-1]}_{number}" not in taken:
                chosen = f"{candidates[-1]}_{number}"
            number += 1
        ids[entry.guid] = chosen
        taken.add(chosen)
    return ids


def slug(name: str) -> str:
    """Lower-case ``[a-z0-9_]`` form of a name, accents folded; "code" when nothing is left."""
    folded = unicodedata.normalize("NFKD", name)
    ascii_only = "".join(char for char in folded if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "_", ascii_only.lower()).strip("_") or "code"


def _code_data(entry: _Entry, ids: dict[str, str], codebook_name: str) -> dict[str, Any]:
    code_id = ids[entry.guid]
    own_guid = entry.guid != derived_guid(codebook_name, "code", code_id)
    return {
        "id": code_id,
        "name": entry.name,
        "parent": ids[entry.parent] if entry.parent is not None else None,
        "colour": entry.colour,
        "codable": entry.codable,
        "guid": entry.guid if own_guid else None,
        **parse_description(entry.description),
    }


def _is_code_set(element: ET.Element) -> bool:
    """A set of codes: it has code members, or no members at all (not a set of sources)."""
    members = {local_name(item.tag) for item in element}
    return "MemberCode" in members or not members & {"MemberSource", "MemberNote"}


def _set_data(element: ET.Element, ids: dict[str, str], codebook_name: str, where: str) -> Any:
    guid = guid_of(element, "guid", where)
    name = (element.get("name") or "").strip()
    members = []
    for member in children(element, "MemberCode"):
        raw = member.get("guid") or member.get("targetGUID")
        target = normalise_guid(raw)
        if target not in ids:
            raise RefiFileError(
                f"{where}: set {name!r} lists a code {raw!r} that is not in the codebook; "
                "export the codebook again from the QDA program"
            )
        members.append(ids[target])
    own_guid = guid != derived_guid(codebook_name, "set", name)
    return {
        "name": name,
        "description": child_text(element, "Description").strip(),
        "codes": members,
        "guid": guid if own_guid else None,
    }


def _note(raw: Any) -> dict[str, Any]:
    """The processing instruction's fields, or {} when absent or not intercoder's shape."""
    if not isinstance(raw, dict):
        return {}
    ids = raw.get("ids")
    order = raw.get("order")
    note: dict[str, Any] = {
        key: raw[key] for key in ("name", "description", "source") if isinstance(raw.get(key), str)
    }
    if isinstance(ids, dict) and all(isinstance(v, str) for v in ids.values()):
        note["ids"] = {normalise_guid(k) or k: v for k, v in ids.items()}
    if isinstance(raw.get("speakers"), dict):
        note["speakers"] = raw["speakers"]
    if isinstance(order, list):
        note["order"] = {normalise_guid(g) or str(g): i for i, g in enumerate(order)}
    return note
