"""``python -m tests.reliability.faults``: every fault case against real server processes.

Prints a table (fault, expected, observed, survived) and the count of faults tried and
survived, the figure eval/RESULTS.md quotes; exits 1 when any fault was not survived. Run it
as root for the full-disk and read-only cases (real tmpfs and bind mounts); without root the
full-disk case is reported as not run, with the reason.

    PYTHONPATH=$PWD python -m tests.reliability.faults [--only NAME ...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.reliability.disks import FaultUnavailableError
from tests.reliability.fault_cases import CASES, Outcome, populated
from tests.reliability.full_disk import FAULT as FULL_DISK
from tests.reliability.full_disk import full_disk
from tests.reliability.suite import figure_line

ALL_CASES: dict[str, Callable[[Path, Path], Outcome]] = {FULL_DISK: full_disk, **CASES}


def run_cases(names: list[str], root: Path) -> list[Outcome | str]:
    """Each named case in its own folder under ``root``; a case the machine cannot make
    (no root for a mount) is the reason, as text."""
    template = populated(root)
    results: list[Outcome | str] = []
    for number, name in enumerate(names):
        work = root / f"case-{number}"
        work.mkdir()
        try:
            results.append(ALL_CASES[name](template, work))
        except FaultUnavailableError as why:
            results.append(f"{name}: not run: {why}")
    return results


def table(results: list[Outcome | str]) -> str:
    outcomes = [result for result in results if isinstance(result, Outcome)]
    lines = [
        "| fault | expected | observed | survived |",
        "|---|---|---|---|",
        *(
            f"| {o.fault} | {o.expected} | {o.observed.replace('|', '/')} | "
            f"{'yes' if o.survived else 'NO'} |"
            for o in outcomes
        ),
        "",
        *(result for result in results if isinstance(result, str)),
        f"faults tried/survived: {len(outcomes)}/{sum(o.survived for o in outcomes)} "
        f"({datetime.now(UTC):%Y-%m-%d})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(ALL_CASES), default=list(ALL_CASES))
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (logs)")
    options = parser.parse_args(argv)
    root = options.keep or Path(tempfile.mkdtemp(prefix="intercoder-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        results = run_cases(options.only, root)
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(table(results))
    outcomes = [result for result in results if isinstance(result, Outcome)]
    print(figure_line("faults tried", len(outcomes)))
    print(figure_line("faults survived", sum(o.survived for o in outcomes)))
    print(figure_line("faults not run", len(results) - len(outcomes)))
    return 0 if all(not isinstance(r, Outcome) or r.survived for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
