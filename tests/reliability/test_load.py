"""A short load and overload of a real ``intercoder serve`` with the real model: no 5xx, no
client left without an answer, 503 with Retry-After beyond the queue, recovery at once.

Latencies are figures, not assertions: the long runs print them (tests/reliability/load.py,
eval/RESULTS.md "Load and overload").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.load import parse, run

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _needs_shared(shared_dir: Path) -> None:
    """The project is seeded with AnnoMI turns from ../shared."""


def test_a_short_load_gets_no_5xx_and_no_timeouts(tmp_path: Path) -> None:
    options = parse(["--clients", "8", "--seconds", "4", "--exemplars", "150", "--sample", "2"])
    options.work_dir = tmp_path
    [result] = run(options)
    assert result.failures() == []
    assert len(result.tally.outcomes) > 8
    assert {o.route for o in result.tally.outcomes} >= {"POST suggestions", "GET project"}
    assert result.footprints[0].open_files > 0


def test_overload_answers_503_with_retry_after_then_recovers(tmp_path: Path) -> None:
    options = parse(
        [
            "--mode",
            "overload",
            "--clients",
            "60",
            "--seconds",
            "4",
            "--active",
            "1",
            "--queue",
            "2",
            "--recover",
            "3",
            "--exemplars",
            "150",
        ]
    )
    options.work_dir = tmp_path
    [result] = run(options)
    assert result.failures() == []  # no 5xx but 503 + Retry-After, no timeouts, recovery 2xx
    assert result.tally.refused() > 0
    assert result.recovery is not None
    recovered = result.recovery.statuses()
    assert recovered
    assert all(200 <= status < 300 for status in recovered), recovered
