"""Validate a parsed codebook (a mapping, as in the YAML format) and build the Codebook.

Apart from the YAML reading and writing in :mod:`codebook.loader` because every source of a
codebook goes through these checks: the YAML files, the service's JSON bodies and REFI-QDA
``.qdc`` files. Validation collects every problem before failing, each with where it is
(``file:line``, code id and field), so a researcher fixes the whole file in one pass instead of
one error per run. Checks that span codes (ids, parents, cycles) are in
:mod:`codebook.structure`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from codebook.errors import CodebookError, Problem
from codebook.model import Code, Codebook, CodeSet, Example
from codebook.speakers import build_speakers
from codebook.structure import structure_problems

_TOP_LEVEL_KEYS = {
    *("name", "description", "source", "examples_source", "codes", "sets", "format", "speakers")
}
_CODE_KEYS = set(Code.model_fields) | {"color"}
_EXAMPLE_SOURCES = ("project", "study", "user", "dataset")
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_BAD_ID_CHARACTERS = re.compile(r"[\s;]")
_GUID = re.compile(r"\{?([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})\}?")
_SET_KEYS = ("name", "description", "codes", "guid")
_GUID_FORMAT = "expected 8-4-4-4-12 hex digits, optionally in braces"


class Where:
    """Maps a code's position and field to a human location such as ``book.yaml:12``.

    ``key_lines`` holds the lines of top-level keys and of their own keys, named by dotted
    path (``speakers``, ``speakers.skip``), for problems outside the code entries.
    """

    def __init__(
        self,
        file_label: str,
        code_lines: list[dict[str, int]],
        key_lines: dict[str, int] | None = None,
    ) -> None:
        self.file_label = file_label
        self.code_lines = code_lines
        self.key_lines = key_lines or {}

    def key(self, path: str) -> str:
        """The location of a top-level key (or ``key.subkey``); the file when unknown."""
        line = self.key_lines.get(path) or self.key_lines.get(path.split(".")[0])
        return f"{self.file_label}:{line}" if line else self.file_label

    def __call__(self, index: int | None = None, field: str | None = None) -> str:
        if index is None or index >= len(self.code_lines):
            return self.file_label
        lines = self.code_lines[index]
        line = lines.get(field or "", lines.get("", 0))
        return f"{self.file_label}:{line}" if line else self.file_label


def build_codebook(data: Any, where: Where | None = None) -> Codebook:
    """Validate a parsed codebook (a mapping as in the YAML format) and build it."""
    where = where or Where("<codebook>", [])
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        found = "an empty file" if data is None else type(data).__name__
        raise CodebookError(
            "a codebook must be a mapping with 'name' and 'codes'",
            [Problem(where(), f"found {found}")],
        )
    problems += [
        Problem(
            where.key(str(key)),
            f"unknown top-level key {key!r}; expected one of {sorted(_TOP_LEVEL_KEYS)}",
        )
        for key in data
        if key not in _TOP_LEVEL_KEYS
    ]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(where(), "'name' must be a non-empty string"))
    default_source = data.get("examples_source", "user")
    if default_source not in _EXAMPLE_SOURCES:
        problems.append(
            Problem(
                where(),
                f"'examples_source' must be one of {_EXAMPLE_SOURCES}, not {default_source!r}",
            )
        )
        default_source = "user"
    raw_codes = data.get("codes")
    if not isinstance(raw_codes, list) or not raw_codes:
        problems.append(Problem(where(), "'codes' must be a non-empty list of code entries"))
        raise CodebookError("the codebook is invalid", problems)
    codes: list[tuple[int, Code]] = []
    for index, raw in enumerate(raw_codes):
        code = _build_code(index, raw, default_source, where, problems)
        if code is not None:
            codes.append((index, code))
    problems += structure_problems(codes, where)
    sets = _build_sets(data.get("sets"), {code.id for _, code in codes}, where, problems)
    speakers = build_speakers(data.get("speakers"), where, problems)
    if problems:
        raise CodebookError(f"the codebook has {len(problems)} problem(s)", problems)
    return Codebook(
        name=str(name).strip(),
        description=str(data.get("description") or ""),
        source=str(data.get("source") or ""),
        codes=tuple(code for _, code in codes),
        sets=sets,
        speakers=speakers,
    )


def normalise_guid(value: object) -> str | None:
    """A GUID in REFI-QDA's canonical form (lower-case, no braces), or None when malformed."""
    if not isinstance(value, str):
        return None
    match = _GUID.fullmatch(value.strip())
    if match is None or value.strip().startswith("{") != value.strip().endswith("}"):
        return None
    return match.group(1).lower()


def _build_sets(
    raw: Any, code_ids: set[str], where: Where, problems: list[Problem]
) -> tuple[CodeSet, ...]:
    """The optional ``sets`` list: named groups of existing code ids (see the README)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(Problem(where(), "'sets' must be a list of sets (name, codes)"))
        return ()
    sets = []
    for index, item in enumerate(raw):
        code_set = _build_set(f"sets[{index}]", item, code_ids, where, problems)
        if code_set is not None:
            sets.append(code_set)
    return tuple(sets)


def _build_set(
    label: str, item: Any, code_ids: set[str], where: Where, problems: list[Problem]
) -> CodeSet | None:
    if not isinstance(item, Mapping):
        problems.append(Problem(where(), f"{label} must be a mapping with 'name' and 'codes'"))
        return None
    before = len(problems)
    problems += [
        Problem(where(), f"{label}: unknown field {key!r}; expected one of {list(_SET_KEYS)}")
        for key in item
        if key not in _SET_KEYS
    ]
    name, members = item.get("name"), item.get("codes", [])
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(where(), f"{label}: 'name' must be a non-empty string"))
    if not isinstance(item.get("description", ""), str):
        problems.append(Problem(where(), f"{label}: 'description' must be text"))
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        problems.append(Problem(where(), f"{label}: 'codes' must be a list of code ids"))
        members = []
    problems += [
        Problem(where(), f"{label}: unknown code {member!r}; list ids defined under 'codes'")
        for member in members
        if member not in code_ids
    ]
    guid = item.get("guid")
    if guid is not None and normalise_guid(guid) is None:
        problems.append(Problem(where(), f"{label}: bad guid {guid!r}; {_GUID_FORMAT}"))
    if len(problems) > before:
        return None
    return CodeSet(
        name=str(name).strip(),
        description=str(item.get("description") or "").strip(),
        codes=tuple(members),
        guid=normalise_guid(guid),
    )


def _build_code(
    index: int, raw: Any, default_source: str, where: Where, problems: list[Problem]
) -> Code | None:
    label = f"codes[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(Problem(where(index), f"{label} must be a mapping, found {raw!r}"))
        return None
    label = f"code {raw.get('id')!r}" if raw.get("id") not in (None, "") else label
    fields = dict(raw)
    if "color" in fields:
        fields.setdefault("colour", fields.pop("color"))
    unknown = sorted(set(fields) - _CODE_KEYS)
    for key in unknown:
        problems.append(
            Problem(
                where(index, key),
                f"{label}: unknown field {key!r}; expected one of {sorted(_CODE_KEYS - {'color'})}",
            )
        )
        fields.pop(key)
    before = len(problems)
    _check_code_fields(label, fields, index, where, problems)
    fields["examples"] = _examples(
        label, fields.get("examples"), default_source, index, where, problems
    )
    if len(problems) > before:
        return None
    for text_field in ("definition", "inclusion", "exclusion"):
        fields[text_field] = str(fields.get(text_field) or "").strip()
    if isinstance(fields.get("colour"), str):
        fields["colour"] = _normalise_colour(fields["colour"])
    if fields.get("guid") is not None:
        fields["guid"] = normalise_guid(fields["guid"])
    try:
        return Code.model_validate(fields)
    except ValidationError as error:
        for detail in error.errors():
            field = str(detail["loc"][0]) if detail["loc"] else ""
            problems.append(Problem(where(index, field), f"{label}: {field}: {detail['msg']}"))
        return None


def _check_code_fields(
    label: str, fields: dict[str, Any], index: int, where: Where, problems: list[Problem]
) -> None:
    code_id = fields.get("id")
    if not isinstance(code_id, str) or not code_id.strip():
        problems.append(Problem(where(index, "id"), f"{label}: 'id' must be a non-empty string"))
    elif _BAD_ID_CHARACTERS.search(code_id):
        problems.append(
            Problem(
                where(index, "id"),
                f"{label}: id may not contain spaces or ';' (';' separates codes in CSV)",
            )
        )
    code_name = fields.get("name")
    if not isinstance(code_name, str) or not code_name.strip():
        problems.append(
            Problem(where(index, "name"), f"{label}: 'name' must be a non-empty string")
        )
    parent = fields.get("parent")
    if parent is not None and not isinstance(parent, str):
        problems.append(
            Problem(where(index, "parent"), f"{label}: 'parent' must be a code id string")
        )
    colour = fields.get("colour")
    if colour is not None and not (isinstance(colour, str) and _COLOUR.fullmatch(colour)):
        problems.append(
            Problem(
                where(index, "colour"),
                f"{label}: bad colour {colour!r}; expected '#rrggbb' or '#rgb' in hex",
            )
        )
    guid = fields.get("guid")
    if guid is not None and normalise_guid(guid) is None:
        problems.append(
            Problem(where(index, "guid"), f"{label}: bad guid {guid!r}; {_GUID_FORMAT}")
        )
    for flag in ("codable", "exclusive"):
        if flag in fields and not isinstance(fields[flag], bool):
            problems.append(Problem(where(index, flag), f"{label}: '{flag}' must be true or false"))
    for text_field in ("definition", "inclusion", "exclusion"):
        value = fields.get(text_field)
        if value is not None and not isinstance(value, str):
            problems.append(
                Problem(where(index, text_field), f"{label}: '{text_field}' must be text")
            )


def _examples(
    label: str, raw: Any, default_source: str, index: int, where: Where, problems: list[Problem]
) -> list[Example]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem(where(index, "examples"), f"{label}: 'examples' must be a list"))
        return []
    examples = []
    for position, item in enumerate(raw):
        if isinstance(item, str) and item.strip():
            examples.append(Example(text=item.strip(), source=default_source))
        elif (
            isinstance(item, Mapping) and isinstance(item.get("text"), str) and item["text"].strip()
        ):
            source = item.get("source", default_source)
            if source not in _EXAMPLE_SOURCES or set(item) - {"text", "source"}:
                problems.append(
                    Problem(
                        where(index, "examples"),
                        f"{label}: example {position + 1} may only have 'text' and 'source' "
                        f"(one of {_EXAMPLE_SOURCES})",
                    )
                )
                continue
            examples.append(Example(text=item["text"].strip(), source=source))
        else:
            problems.append(
                Problem(
                    where(index, "examples"),
                    f"{label}: example {position + 1} must be non-empty text "
                    "or a mapping with 'text'",
                )
            )
    return examples


def _normalise_colour(colour: str) -> str:
    digits = colour[1:].lower()
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)
