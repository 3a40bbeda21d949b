"""Use cases more than one interface calls live in neutral application modules
(``service.app.codebooks``, ``service.app.exports``), not in a page's module: the HTTP API
imports no ``service.app.page_*`` module, and their errors use no interface's wording."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codebook.errors import UnknownNameError
from codebook.loader import SHIPPED_CODEBOOKS
from service.app.codebooks import shipped_codebook

ROOT = Path(__file__).resolve().parents[1]
PAGE_ONLY = "service.app.page_"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_page_imports_the_pages_use_case_modules() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for folder in ("service/api", "service/cli", "service/refi", "service/store")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module in _imported_modules(path)
        if module.startswith(PAGE_ONLY)
    ]
    assert offenders == []


def test_a_shipped_codebook_is_found_by_name() -> None:
    for name in SHIPPED_CODEBOOKS:
        assert shipped_codebook(name).codes


def test_an_unknown_shipped_codebook_is_named_in_words_of_no_interface() -> None:
    with pytest.raises(UnknownNameError) as raised:
        shipped_codebook("nope")
    message = str(raised.value)
    assert "'nope'" in message
    assert all(name in message for name in SHIPPED_CODEBOOKS)
    assert "inline" not in message  # the API's words (its schema already names the codebooks)
