"""The README's two commands: the install runs once (later starts skip it until pyproject.toml
changes), torch always comes as a CPU build, and the slow tests are a step of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(folder: Path, *arguments: str) -> str:
    """What ``make`` would run in ``folder`` (a copy of the Makefile and pyproject.toml)."""
    # run from `make test`, the outer make's flags would reach this one (and its "Entering
    # directory" lines its output): a user's make starts without them
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    finished = subprocess.run(
        ["make", "-n", *arguments], cwd=folder, capture_output=True, text=True, timeout=60, env=env
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.replace("\\\n", " ")  # a command continued over lines, as one


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_a_fresh_machine_installs_a_cpu_torch_first_then_intercoder(project: Path) -> None:
    commands = _dry_run(project, "serve").splitlines()
    torch = next(line for line in commands if "torch==" in line)
    # a local wheel, else the PyTorch CPU index: never PyPI's default (CUDA) build
    assert "--no-index" in torch
    assert "download.pytorch.org/whl/cpu" in torch
    install = next(i for i, line in enumerate(commands) if "pip install --quiet -e ." in line)
    assert commands.index(torch) < install
    assert commands[-1].endswith("intercoder serve")


def test_the_install_runs_once_until_pyproject_changes(project: Path) -> None:
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    for stamp in (".torch", ".installed", ".installed-dev"):
        (venv / stamp).touch()
    assert "pip install" not in _dry_run(project, "serve")
    assert "pip install" not in _dry_run(project, "install-dev")
    # make -W pretends the file just changed: the install runs again
    assert "pip install --quiet -e ." in _dry_run(project, "-W", "pyproject.toml", "serve")


def test_quick_and_slow_tests_are_separate_steps(project: Path) -> None:
    quick = _dry_run(project, "-o", ".venv/.installed-dev", "test")
    assert '-m "not slow and not container"' in quick
    slow = _dry_run(project, "-o", ".venv/.installed-dev", "test-slow")
    assert '-m "slow and not container"' in slow
    # The image build takes minutes and a registry: its own target, in neither CI step.
    docker = _dry_run(project, "-o", ".venv/.installed-dev", "test-docker")
    assert "-m container tests/test_docker.py" in docker
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test\n" in ci
    assert "make test-slow" in ci


def test_the_long_reliability_suite_is_one_make_target(project: Path) -> None:
    long_run = _dry_run(project, "-o", ".venv/.installed-dev", "reliability").splitlines()
    assert long_run == [".venv/bin/python -m tests.reliability "]
