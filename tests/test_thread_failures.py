"""The suite's own check: a failed assert in a worker thread fails its test.

Each case runs pytest in a subprocess on a tiny test file whose worker thread fails an assert.
Without the checks that test passes (the control); with the plugin tests/thread_failures.py, or
with the filterwarnings entry of pyproject.toml, it fails.
"""

from __future__ import annotations

import os
import tomllib

import pytest

from tests.conftest import REPO_ROOT

THREAD_FAILS_AN_ASSERT = """
import threading

def test_a_worker_asserts():
    worker = threading.Thread(target=lambda: (_ for _ in ()).throw(AssertionError("worker")))
    worker.start()
    worker.join()
"""


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A tiny test file whose worker thread fails an assert; the project importable."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), path])))
    pytester.makepyfile(test_tiny=THREAD_FAILS_AN_ASSERT)
    return pytester


def test_without_the_checks_a_worker_thread_failure_passes_unnoticed(
    tiny: pytest.Pytester,
) -> None:
    tiny.makeini("[pytest]\nfilterwarnings = ignore::pytest.PytestUnhandledThreadExceptionWarning")
    tiny.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_plugin_fails_a_test_whose_thread_raised(tiny: pytest.Pytester) -> None:
    tiny.makeini("[pytest]\nfilterwarnings = ignore::pytest.PytestUnhandledThreadExceptionWarning")
    result = tiny.runpytest_subprocess("-p", "no:cacheprovider", "-p", "tests.thread_failures")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*1 thread(s) raised during this test*", "*AssertionError: worker"]
    )


def test_the_projects_warning_filter_fails_a_test_whose_thread_raised(
    tiny: pytest.Pytester,
) -> None:
    ini = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    filters = ini["ini_options"]["filterwarnings"]
    tiny.makeini("[pytest]\nfilterwarnings =\n" + "".join(f"    {f}\n" for f in filters))
    result = tiny.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*PytestUnhandledThreadExceptionWarning*"])
