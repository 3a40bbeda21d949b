"""``intercoder --help`` answers without importing the heavy libraries (issue 18): they take
seconds to load, and a new user's first command should not wait for them. Not timed: the
figures are in eval/RESULTS.md (``eval/bench_cli.py``); this guards the imports that cause them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from eval.bench_cli import HEAVY
from tests.conftest import REPO_ROOT

PROBE = """
import json, sys
from service.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["suggest", "--help"], ["evaluate", "--help"], ["projects", "--help"]],
    ids=" ".join,
)
def test_help_imports_no_heavy_module(arguments: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
        timeout=120,
    )
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    imported = {name for name in modules if name in HEAVY or name.split(".")[0] in HEAVY}
    assert not imported, f"--help imported {sorted(imported)}"
