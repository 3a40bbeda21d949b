"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# pytester: tests of the suite's own checks (tests/test_thread_failures.py)
pytest_plugins = ["pytester", "tests.thread_failures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the project; tests that need it skip, saying why, when it is absent."""
    if not (SHARED_DIR / "data").is_dir():
        pytest.skip(f"../shared is not beside the project (looked for {SHARED_DIR / 'data'})")
    return SHARED_DIR


@pytest.fixture(scope="session", autouse=True)
def _no_real_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing the suite runs writes into the user's data folder or ./intercoder-data: tests
    that need a store set their own INTERCODER_DATA_DIR; the rest get this throwaway one."""
    from service.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INTERCODER_DATA_DIR", str(tmp_path_factory.mktemp("session-data")))
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()
