"""What a project's and a transcript's id may look like: safe as file names and in URLs."""

from __future__ import annotations

PROJECT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
TRANSCRIPT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
RESERVED_PROJECT_IDS = frozenset({"import"})
"""Ids that fit the pattern but name a route: ``/v1/projects/import`` is the REFI-QDA import,
so no project may be called ``import``."""
