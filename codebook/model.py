"""The codebook: categories and codes, their hierarchy, and which of them are exclusive.

A codebook is a flat tuple of :class:`Code` entries linked by ``parent``; a category is an entry
with ``codable=False`` (it groups codes but is not applied itself). An entry marked ``exclusive``
allows at most one of the codable codes beneath it (at any depth) on one unit; everywhere else a
unit may carry several codes or none. Sets (:class:`CodeSet`) name groups of codes across the
hierarchy, as QDA programs do, and change nothing about coding. Build codebooks with
:func:`codebook.loader.build_codebook` (or load them with :func:`codebook.loader.load_codebook`),
which validates everything; the constructors here trust their input.

A codebook may also say whose talk is coded (:class:`Speakers`): ``speakers: {skip:
[Interviewer, I, Moderator]}`` in YAML leaves those speakers' sentences uncoded (an
interviewer's prompts and back-channels carry none of an interview codebook's codes).
:func:`codebook.speakers.select_sentences` applies it, matching names case-insensitively;
a user's explicit speaker choice overrides it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict

ExampleSource = Literal["project", "study", "user", "dataset"]
"""Where an example sentence comes from: written for intercoder, quoted from the study that
defined the codebook, added by the codebook's user, or taken from a public dataset."""


class Example(BaseModel):
    """An example sentence for a code, with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    source: ExampleSource = "user"


class Code(BaseModel):
    """One entry of a codebook: a codable code, or a category (``codable=False``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    examples: tuple[Example, ...] = ()
    colour: str | None = None
    codable: bool = True
    exclusive: bool = False
    guid: str | None = None
    """The code's REFI-QDA GUID (lower-case, no braces) when it came from a QDA program."""


class CodeSet(BaseModel):
    """A named group of codes across the hierarchy (a REFI-QDA ``Set``, an ATLAS.ti code group).

    Sets only group codes for the researcher; they change nothing about how units are coded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    codes: tuple[str, ...] = ()
    guid: str | None = None
    """The set's REFI-QDA GUID (lower-case, no braces) when it came from a QDA program."""


class Speakers(BaseModel):
    """Speaker roles the codebook declares: ``skip`` names speakers whose units are not coded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skip: tuple[str, ...] = ()


class Codebook(BaseModel):
    """A validated codebook. ``version`` is a hash of its content, named by every suggestion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    source: str = ""
    codes: tuple[Code, ...]
    sets: tuple[CodeSet, ...] = ()
    speakers: Speakers = Speakers()

    @cached_property
    def version(self) -> str:
        """First 16 hex digits of the sha256 of the codebook's canonical JSON form.

        Empty ``sets``, empty ``speakers`` and ``guid: None`` are left out of the canonical
        form, so codebooks written before those fields existed keep the version they always had.
        """
        data = self.model_dump(mode="json")
        if not data["sets"]:
            del data["sets"]
        if not data["speakers"]["skip"]:
            del data["speakers"]
        for entry in [*data["codes"], *data.get("sets", [])]:
            if entry["guid"] is None:
                del entry["guid"]
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    @cached_property
    def by_id(self) -> dict[str, Code]:
        return {code.id: code for code in self.codes}

    @cached_property
    def codable_ids(self) -> tuple[str, ...]:
        """Ids of the codes that may be applied to a unit, in file order."""
        return tuple(code.id for code in self.codes if code.codable)

    def __contains__(self, code_id: object) -> bool:
        return code_id in self.by_id

    def get(self, code_id: str) -> Code:
        """The entry with this id; KeyError names the id when it does not exist."""
        try:
            return self.by_id[code_id]
        except KeyError:
            raise KeyError(f"codebook {self.name!r} has no code {code_id!r}") from None

    def children(self, code_id: str | None) -> tuple[Code, ...]:
        """Direct children of an entry; ``None`` gives the top-level entries."""
        return tuple(code for code in self.codes if code.parent == code_id)

    def ancestors(self, code_id: str) -> tuple[str, ...]:
        """Ids from the entry's parent up to its top-level ancestor."""
        chain: list[str] = []
        parent = self.get(code_id).parent
        while parent is not None:
            chain.append(parent)
            parent = self.by_id[parent].parent
        return tuple(chain)

    def depth(self, code_id: str) -> int:
        return len(self.ancestors(code_id))

    @cached_property
    def exclusive_groups(self) -> dict[str, tuple[str, ...]]:
        """For each exclusive entry, the codable codes beneath it (at any depth)."""
        groups: dict[str, tuple[str, ...]] = {}
        for entry in self.codes:
            if entry.exclusive:
                groups[entry.id] = tuple(
                    code.id
                    for code in self.codes
                    if code.codable and entry.id in self.ancestors(code.id)
                )
        return groups

    def code_set_problems(self, code_ids: Iterable[str]) -> list[str]:
        """What is wrong with applying these codes together to one unit (empty when valid)."""
        wanted = set(code_ids)
        problems = [
            f"unknown code {code_id!r}" for code_id in sorted(wanted) if code_id not in self.by_id
        ]
        problems += [
            f"{code_id!r} is a category, not a codable code"
            for code_id in sorted(wanted)
            if code_id in self.by_id and not self.by_id[code_id].codable
        ]
        for group_id, members in self.exclusive_groups.items():
            clash = sorted(wanted.intersection(members))
            if len(clash) > 1:
                problems.append(
                    f"codes {', '.join(clash)} are all under exclusive category "
                    f"{group_id!r}; a unit may carry at most one of them"
                )
        return problems

    def summary_rows(self) -> list[tuple[str, str, str, int]]:
        """(indented id, name, flags, example count) per entry, in tree order, for display."""
        rows: list[tuple[str, str, str, int]] = []

        def walk(parent: str | None, depth: int) -> None:
            for code in self.children(parent):
                flags = [] if code.codable else ["category"]
                if code.exclusive:
                    flags.append("exclusive")
                rows.append(
                    ("  " * depth + code.id, code.name, ",".join(flags), len(code.examples))
                )
                walk(code.id, depth + 1)

        walk(None, 0)
        return rows
