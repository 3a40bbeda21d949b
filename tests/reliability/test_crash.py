"""The crash suite's short version: three kill -9 cycles; and its checks can fail.

The long run is ``python -m tests.reliability.crash`` (50 cycles by default).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.reliability.crash import CrashOptions, CrashRun
from tests.reliability.crash_checks import (
    check_acknowledged,
    check_indexes,
    check_whole,
    read_database,
)
from tests.reliability.crash_workload import PROJECT, WRITES


@pytest.mark.slow
def test_kill_9_cycles_lose_nothing_and_the_indexes_follow(tmp_path: Path) -> None:
    options = CrashOptions(cycles=3, writers=3, seed_exemplars=100, rebuild_every=3, seed=1)
    run = CrashRun(options, tmp_path)
    summary = run.run(report=lambda _line: None)

    assert summary.problems() == []
    assert (summary.tracebacks, summary.hung_writers) == (0, 0)
    assert summary.cycles == 3
    assert summary.rebuild_checks == 1
    assert sum(summary.acknowledged[kind] for kind in WRITES) > 30
    assert summary.acknowledged["exemplar_add"] > 3
    assert len(summary.restart_seconds) == 3
    _tamper_and_expect_findings(run)


def _tamper_and_expect_findings(run: CrashRun) -> None:
    """The same checks on a database that lost an exemplar and a sentence find both, and the
    index that no longer matches it (the server is stopped by now)."""
    ledger = run.ledger
    stored = read_database(run.database)
    seeded = min(ledger.exemplar_texts)  # a seed exemplar: never deleted or replaced
    assert seeded in stored.exemplars
    transcript = next(iter(ledger.transcripts))
    with sqlite3.connect(run.database) as connection:
        connection.execute("DELETE FROM exemplars WHERE id = ?", (seeded,))
        connection.execute(
            "DELETE FROM sentences WHERE project_id = ? AND transcript_id = ? AND idx = 0",
            (PROJECT, transcript),
        )
    tampered = read_database(run.database)
    assert check_acknowledged(tampered, ledger) == [
        f"exemplar {seeded} ({ledger.exemplar_texts[seeded]!r})"
    ]
    half = check_whole(tampered, ledger, run.reference)
    assert any(f"transcript ('{PROJECT}', '{transcript}')" in line for line in half), half
    assert any(
        line.startswith(f"{PROJECT}: index holds") for line in check_indexes(tampered, run.data_dir)
    )
