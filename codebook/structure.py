"""Checks that span a codebook's codes rather than one entry.

Duplicate ids and guids, unknown parents, parent cycles, and exclusive codes with nothing
codable beneath them. Apart from the per-entry checks in :mod:`codebook.validation` because
these run once every code has been built, and look at the tree rather than at one entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codebook.errors import Problem
from codebook.model import Code

if TYPE_CHECKING:
    from codebook.validation import Where


def structure_problems(codes: list[tuple[int, Code]], where: Where) -> list[Problem]:
    """Duplicate ids, unknown parents, cycles, exclusive entries without codes beneath."""
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for index, code in codes:
        if code.id in first_index:
            problems.append(
                Problem(
                    where(index, "id"),
                    f"duplicate id {code.id!r} "
                    f"(first defined at {where(first_index[code.id], 'id')})",
                )
            )
        else:
            first_index[code.id] = index
    problems += _duplicate_guid_problems(codes, where)
    parents = {code.id: code.parent for _, code in codes}
    for index, code in codes:
        if code.parent is not None and code.parent not in parents:
            problems.append(
                Problem(
                    where(index, "parent"),
                    f"code {code.id!r}: unknown parent {code.parent!r}; add it or fix the id",
                )
            )
    reported: set[frozenset[str]] = set()
    for index, code in codes:
        cycle = _cycle_from(code.id, parents)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            problems.append(
                Problem(
                    where(index, "parent"),
                    f"parent cycle {' -> '.join([*cycle, cycle[0]])}; "
                    "a code cannot be its own ancestor",
                )
            )
    for index, code in codes:
        if code.exclusive and not any(
            _descends_from(other.id, code.id, parents) and other.codable for _, other in codes
        ):
            problems.append(
                Problem(
                    where(index, "exclusive"),
                    f"code {code.id!r} is exclusive but has no codable codes beneath it",
                )
            )
    return problems


def _duplicate_guid_problems(codes: list[tuple[int, Code]], where: Where) -> list[Problem]:
    """Two codes with one GUID: a REFI-QDA coding that names it could mean either."""
    owner: dict[str, str] = {}
    problems = []
    for index, code in codes:
        if code.guid is None:
            continue
        if code.guid in owner:
            problems.append(
                Problem(
                    where(index, "guid"),
                    f"code {code.id!r} has the guid of code {owner[code.guid]!r}; "
                    "give each code its own guid or leave it out",
                )
            )
        else:
            owner[code.guid] = code.id
    return problems


def _cycle_from(start: str, parents: dict[str, str | None]) -> list[str]:
    seen: list[str] = []
    node: str | None = start
    while node is not None and node in parents:
        if node in seen:
            return seen[seen.index(node) :] if node == start else []
        seen.append(node)
        node = parents[node]
    return []


def _descends_from(code_id: str, ancestor: str, parents: dict[str, str | None]) -> bool:
    seen: set[str] = set()
    node = parents.get(code_id)
    while node is not None and node not in seen:
        if node == ancestor:
            return True
        seen.add(node)
        node = parents.get(node)
    return False
