"""The suite runner: parts run as subprocesses, figures collected, nothing skipped silently."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.reliability.suite import (
    _without_note,
    append_section,
    markdown,
    parse_figure,
    run_part,
)

PARTS = {
    "good": "print('warming up')\nprint('RESULT cycles: 3')\nprint('RESULT lost: 0 (a|b)')\n",
    "bad": "import sys\nprint('RESULT lost: 2')\nsys.exit(1)\n",
    "slow": "import time\nprint('RESULT started: yes', flush=True)\ntime.sleep(60)\n",
}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of fake parts, importable here and in the subprocesses."""
    folder = tmp_path / "fakeparts"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name, code in PARTS.items():
        (folder / f"{name}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return "fakeparts"


def test_a_result_line_is_a_figure_and_nothing_else_is() -> None:
    assert parse_figure("RESULT p95 ms (20 clients): 812") == ("p95 ms (20 clients)", "812")
    assert parse_figure("cycle 3/50: restart 2.1 s") is None
    assert parse_figure("RESULT no colon") is None


def test_parts_run_and_report_passed_failed_missing_and_timed_out(package: str) -> None:
    good = run_part("good", [], 60, package)
    assert (good.outcome, good.figures) == ("passed", [("cycles", "3"), ("lost", "0 (a|b)")])
    assert good.command == [sys.executable, "-m", "fakeparts.good"]
    bad = run_part("bad", [], 60, package)
    assert (bad.outcome, bad.figures) == ("failed (exit 1)", [("lost", "2")])
    missing = run_part("absent", [], 60, package)
    assert missing.outcome == "missing"
    slow = run_part("slow", [], 0.5, package)
    assert slow.outcome.startswith("timed out")
    assert slow.figures == [("started", "yes")]

    section = markdown([good, bad, missing], "A quiet machine.", datetime(2026, 12, 5, tzinfo=UTC))
    assert section.startswith("## Reliability suite, 2026-12-05 00:00 UTC\n")
    assert "A quiet machine." in section
    assert "### good: passed" in section
    assert "| lost | 0 (a/b) |" in section  # a pipe would break the table
    assert "### bad: failed (exit 1)" in section
    assert "### absent: missing" in section
    assert "tests/reliability/absent.py is not in this checkout" in section


def test_the_section_is_appended_at_the_end(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\n## Earlier\n\ntext\n")
    append_section(results, "## Reliability suite, today\n")
    assert results.read_text() == "# Results\n\n## Earlier\n\ntext\n\n## Reliability suite, today\n"


def test_results_show_the_command_without_the_note() -> None:
    given = ["--parts", "crash", "--note", "Shared machine.", "--note=again"]
    assert _without_note(given) == ["--parts", "crash"]
    section = markdown(
        [], "Shared machine.", datetime(2026, 12, 5, tzinfo=UTC), ["--parts", "crash"]
    )
    assert "`python -m tests.reliability --parts crash` on " in section
    assert section.count("Shared machine.") == 1
