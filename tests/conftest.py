"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the project; tests that need it skip, saying why, when it is absent."""
    if not (SHARED_DIR / "data").is_dir():
        pytest.skip(f"../shared is not beside the project (looked for {SHARED_DIR / 'data'})")
    return SHARED_DIR
