"""Every library the shipped packages import is declared in pyproject.toml, so an install
from the package (pip install intercoder) has it: a module of the shared development venv that
no declaration brings would work here and fail for a user."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("codebook", "models", "eval", "service")
BROUGHT_BY_A_DECLARED_ONE = {
    # each pinned by the declared library it belongs to, so declaring it again could only
    # disagree with that pin
    "pydantic_core": "pydantic",
    "starlette": "fastapi",
    "rich": "typer",  # typer's own progress display
}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {_normalised(re.split(r"[\s<>=!~;\[]", text, maxsplit=1)[0]) for text in requirements}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_level_modules() -> dict[str, str]:
    """Each third-party top-level module the shipped packages import, with one place."""
    found: dict[str, str] = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in SHIPPED:
                        found.setdefault(top, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_imported_library_is_declared_in_pyproject() -> None:
    declared = _declared()
    providers = packages_distributions()
    undeclared = [
        f"{module} ({where}; from {providers.get(module, ['an unknown distribution'])})"
        for module, where in sorted(_imported_top_level_modules().items())
        if BROUGHT_BY_A_DECLARED_ONE.get(module) not in declared
        and not {_normalised(dist) for dist in providers.get(module, [module])} & declared
    ]
    assert not undeclared, f"imported but not in pyproject.toml: {undeclared}"
