"""The layout's rules, read from the source with ``ast``: a broken rule names the file and the
import that breaks it.

- Layers, lowest first: codebook -> models -> eval -> service; nothing imports upward, and
  ``codebook`` imports no ML library.
- Inside ``service``: the interfaces (``api``, ``cli``, the review page ``web``) call the
  application layer (``app``, ``refi``) and never each other; the application layer, the
  store and the REFI bridge import no interface, nor FastAPI or typer.
- No package imports ``tests``; no fitted estimator's attribute (``name_``) is read outside
  ``models``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("codebook", "models", "eval", "service")
ML_LIBRARIES = ("torch", "sentence_transformers", "transformers", "faiss", "sklearn")
NO_INTERFACE = (
    "service/app",
    "service/store",
    "service/refi",
    "service/metrics.py",
    "service/settings.py",
    "service/errors.py",
)


def _sources(package: str) -> Iterator[Path]:
    """The Python files of a package folder, or the one file named."""
    path = ROOT / package
    yield from [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_higher_one(layer: str) -> None:
    higher = LAYERS[LAYERS.index(layer) + 1 :]
    wrong = [
        f"{_where(path, line)} imports {name}"
        for path in _sources(layer)
        for line, name in _imports(path)
        if name.split(".")[0] in (*higher, "tests")
    ]
    assert not wrong, wrong


def test_codebook_imports_no_machine_learning_library() -> None:
    wrong = [
        f"{_where(path, line)} imports {name}"
        for path in _sources("codebook")
        for line, name in _imports(path)
        if name.split(".")[0] in ML_LIBRARIES
    ]
    assert not wrong, wrong


INTERFACES = ("api", "cli", "web")
CROSSINGS = {
    ("service/cli/serve.py", "service.api.main"),  # the serve command runs the web app
    ("service/api/main.py", "service.web.mount"),  # the app mounts the page in its process
}
"""The only imports from one interface into another, each by its full path (a file of the
same name elsewhere, such as service/cli/main.py, gets no pass)."""


@pytest.mark.parametrize(
    ("interface", "other"),
    [(one, other) for one in INTERFACES for other in INTERFACES if one != other],
)
def test_an_interface_never_calls_another(interface: str, other: str) -> None:
    wrong = [
        f"{_where(path, line)} imports {name}"
        for path in _sources(f"service/{interface}")
        for line, name in _imports(path)
        if name.startswith(f"service.{other}")
        and (path.relative_to(ROOT).as_posix(), name) not in CROSSINGS
    ]
    assert not wrong, wrong


def test_each_allowed_crossing_is_a_file_that_makes_it() -> None:
    """A crossing whose file moved or stopped importing would leave a pass for nothing."""
    for where, name in CROSSINGS:
        assert name in {imported for _, imported in _imports(ROOT / where)}, (where, name)


@pytest.mark.parametrize("folder", NO_INTERFACE)
def test_the_application_layer_knows_no_interface(folder: str) -> None:
    forbidden = ("service.api", "service.cli", "fastapi", "starlette", "typer")
    wrong = [
        f"{_where(path, line)} imports {name}"
        for path in _sources(folder)
        for line, name in _imports(path)
        if name.startswith(forbidden)
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("package", ["eval", "service"])
def test_no_fitted_attribute_is_read_outside_models(package: str) -> None:
    """Learned state ends in ``_`` (the estimator contract); only ``models`` may touch it."""
    wrong = []
    for path in _sources(package):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.endswith("_")
                and not node.attr.startswith("_")
                # numpy's scalar types (np.bool_) and pyarrow's types (pa.list_) are names,
                # not learned state
                and not (
                    isinstance(node.value, ast.Name)
                    and node.value.id in ("np", "numpy", "pa", "pyarrow")
                )
            ):
                wrong.append(f"{_where(path, node.lineno)} reads .{node.attr}")
    assert not wrong, wrong


def test_method_names_come_from_one_registry() -> None:
    from typing import get_args

    from eval.method_names import BASELINE_NAMES
    from eval.methods import BASELINES
    from models.methods import METHOD_HELP, METHOD_NAMES
    from models.suggesters import METHODS
    from service.api.schemas_suggest import EvaluationMethod, SuggestOptions

    assert set(METHODS) == set(METHOD_NAMES) == set(METHOD_HELP)
    assert set(get_args(EvaluationMethod)) == set(METHOD_NAMES) | set(BASELINES)
    assert set(BASELINES) == set(BASELINE_NAMES)  # the light list the CLI's help shows
    assert set(get_args(SuggestOptions.model_fields["method"].annotation)) == set(METHOD_NAMES)


@pytest.mark.parametrize("interface", INTERFACES)
def test_interfaces_change_nothing_but_through_the_application_layer(interface: str) -> None:
    """Reads of the store (a page of exemplars, a transcript) may be direct; every write, and
    every pause of writes for a consistent snapshot, goes through ``service.app``."""
    wrong = []
    for path in _sources(f"service/{interface}"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        wrong += [
            f"{_where(path, node.lineno)} calls .{node.func.attr}()"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("write", "writes_paused", "after_commit")
        ]
    assert not wrong, wrong


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_are_absolute_so_the_layer_rules_see_them(layer: str) -> None:
    relative = [
        _where(path, node.lineno)
        for path in _sources(layer)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert not relative, relative
