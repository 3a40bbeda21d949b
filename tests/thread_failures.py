"""A pytest plugin (tests/conftest.py loads it): a test fails when any thread raised during it.

An ``assert`` or any other exception in a worker thread ends only that thread; the test's own
thread never sees it, and the test passes unless someone checks. This plugin installs a
``threading.excepthook`` for each test that records every such exception, and fails the phase
(set-up, the test itself, or teardown) during which a thread raised, showing the threads'
tracebacks. pytest's own thread-exception warning is also made an error in pyproject.toml; that
one still covers threads raising between tests.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Generator

import pytest

_RAISED = pytest.StashKey[list[str]]()


def _describe(args: threading.ExceptHookArgs) -> str:
    name = "<unknown>" if args.thread is None else args.thread.name
    trace = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    return f"exception in thread {name}:\n{trace}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    raised: list[str] = []
    item.stash[_RAISED] = raised
    previous = threading.excepthook

    def record(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:  # as the default hook: a thread may exit quietly
            raised.append(_describe(args))

    threading.excepthook = record
    try:
        return (yield)
    finally:
        threading.excepthook = previous


def _fail_if_a_thread_raised(item: pytest.Item) -> None:
    raised = item.stash.get(_RAISED, [])
    if raised:
        found = list(raised)
        raised.clear()  # each exception fails one phase
        pytest.fail(
            f"{len(found)} thread(s) raised during this test; a thread must hand its results "
            "(or its exception) back to the test, which asserts:\n\n" + "\n".join(found),
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    _fail_if_a_thread_raised(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    _fail_if_a_thread_raised(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    _fail_if_a_thread_raised(item)
    return result
