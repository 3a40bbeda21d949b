"""Read and write codebooks in intercoder's YAML format (see the README).

This module turns YAML text, files and the shipped codebooks' names into a Codebook, and back;
it maps each code entry to its line so that problems name ``file:line``. The checks themselves
are in :mod:`codebook.validation`: :func:`build_codebook`, re-exported here, validates a mapping
from any source, so the YAML files and the service's JSON bodies are checked alike.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from codebook.errors import CodebookError, Problem, UnknownNameError
from codebook.model import Codebook
from codebook.validation import Where, build_codebook

__all__ = [
    "SHIPPED_CODEBOOKS",
    "build_codebook",
    "codebook_to_yaml",
    "load_codebook",
    "parse_codebook_yaml",
]

SHIPPED_CODEBOOKS: dict[str, str] = {
    "interview": "the study's interview codebook (12 categories, 75 codes)",
    "drawing": "the study's drawing codebook (5 categories, 44 codes)",
    "annomi-therapist": "AnnoMI main therapist behaviour (4 exclusive codes)",
    "annomi-client": "AnnoMI client talk type (3 exclusive codes)",
    "swda": "Switchboard dialogue acts, SWBD-DAMSL collapsed to 41 exclusive tags",
    "swda-nocode": "SwDA as stance and questions (5 exclusive codes; most utterances uncoded)",
    "chatterbot-topics": "ChatterBot corpus topics (18 exclusive codes; small talk uncoded)",
}


def _code_lines(text: str) -> list[dict[str, int]]:
    """Line numbers of every code entry (key "") and of its fields, from the YAML node tree."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key_node, value_node in root.value:
        if key_node.value == "codes" and isinstance(value_node, yaml.SequenceNode):
            lines = []
            for item in value_node.value:
                fields = {"": item.start_mark.line + 1}
                if isinstance(item, yaml.MappingNode):
                    fields |= {k.value: v.start_mark.line + 1 for k, v in item.value}
                lines.append(fields)
            return lines
    return []


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of the top-level keys and of the keys of top-level mappings
    (``speakers.skip``), so that problems outside the code entries name a line too."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.MappingNode):
            for sub_key, _ in value_node.value:
                lines[f"{key_node.value}.{sub_key.value}"] = sub_key.start_mark.line + 1
    return lines


def parse_codebook_yaml(text: str, file_label: str = "<codebook>") -> Codebook:
    """Parse and validate YAML text; raise CodebookError listing every problem found."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{file_label}:{mark.line + 1}" if mark is not None else file_label
        raise CodebookError(
            "the codebook is not valid YAML",
            [Problem(where, str(getattr(error, "problem", error)))],
        ) from None
    return build_codebook(data, Where(file_label, _code_lines(text), _key_lines(text)))


def load_codebook(file_or_name: str | Path) -> Codebook:
    """Load a codebook from a YAML path, or a shipped one by name (see SHIPPED_CODEBOOKS)."""
    path = Path(file_or_name)
    if str(file_or_name) in SHIPPED_CODEBOOKS and not path.exists():
        resource = resources.files("codebook").joinpath("data", f"{file_or_name}.yaml")
        return parse_codebook_yaml(resource.read_text(encoding="utf-8"), f"{file_or_name}.yaml")
    if not path.is_file():
        raise UnknownNameError(
            f"no codebook file {str(file_or_name)!r} and no shipped codebook of that name; "
            f"give a path to a .yaml file or one of: {', '.join(SHIPPED_CODEBOOKS)}"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CodebookError(
            f"{path} is not UTF-8 text (byte {error.start}); save the codebook as UTF-8"
        ) from None
    return parse_codebook_yaml(text, str(path))


def codebook_to_yaml(codebook: Codebook) -> str:
    """The codebook in the YAML format, loadable by :func:`parse_codebook_yaml` unchanged."""
    codes = []
    for code in codebook.codes:
        entry = code.model_dump(exclude_defaults=True, mode="json")
        if code.examples:
            entry["examples"] = [example.model_dump(mode="json") for example in code.examples]
        codes.append(entry)
    data: dict[str, Any] = {
        "name": codebook.name,
        "description": codebook.description,
        "source": codebook.source,
        "codes": codes,
    }
    if codebook.sets:
        data["sets"] = [
            code_set.model_dump(exclude_defaults=True, mode="json") for code_set in codebook.sets
        ]
    if codebook.speakers.skip:
        data["speakers"] = {"skip": list(codebook.speakers.skip)}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
