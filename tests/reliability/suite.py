"""The long reliability suite in one command: every part in turn, its figures in eval/RESULTS.md.

    python -m tests.reliability [--parts crash,faults,fuzz,load] [--part-args PART="ARGS"]
                                [--note TEXT] [--results FILE | --no-results]

The contract of a part, so each can be written and run on its own:

- it is a module ``tests/reliability/<part>.py`` run as ``python -m tests.reliability.<part>``;
  with no arguments it does its full long run (the figures RESULTS.md quotes), and options
  make it shorter (``--part-args crash="--cycles 3"`` passes them through);
- it prints each figure on a line of its own, ``RESULT <name>: <value>`` (the name without a
  colon); its other output is progress, shown as it comes and not recorded;
- it exits 0 when every check held, 1 when one failed (figures still printed), 2 on bad
  arguments.

Nothing is skipped silently: a part whose module is missing is reported as missing, one that
runs past ``--timeout-minutes`` is stopped and reported as timed out, and the suite exits 1
unless every part passed. The figures go to the terminal and, as a dated section at the end,
to eval/RESULTS.md with each part's exact command.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import REPO_ROOT

PARTS = ("crash", "faults", "fuzz", "load")
PACKAGE = "tests.reliability"
RESULT_PREFIX = "RESULT "


@dataclass
class PartRun:
    """One part's outcome: its command, how it ended, and its figures."""

    part: str
    command: list[str]
    outcome: str = "missing"
    seconds: float = 0.0
    figures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


def figure_line(name: str, value: object) -> str:
    """A part's figure as the line this runner records (the name without a colon)."""
    return f"{RESULT_PREFIX}{name}: {value}"


def parse_figure(line: str) -> tuple[str, str] | None:
    """(name, value) from a ``RESULT name: value`` line, else None."""
    if not line.startswith(RESULT_PREFIX) or ":" not in line:
        return None
    name, value = line[len(RESULT_PREFIX) :].split(":", 1)
    return name.strip(), value.strip()


def run_part(part: str, args: list[str], timeout_s: float, package: str = PACKAGE) -> PartRun:
    """Run one part as a subprocess, echoing its output and collecting its figures."""
    command = [sys.executable, "-m", f"{package}.{part}", *args]
    run = PartRun(part, command)
    if importlib.util.find_spec(f"{package}.{part}") is None:
        return run
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    started = time.monotonic()
    with subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": python_path},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: a timeout stops the servers it started too
    ) as process:
        timed_out = threading.Event()

        def stop_it() -> None:
            timed_out.set()
            os.killpg(process.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout_s, stop_it)
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                print(f"[{part}] {line}", end="", flush=True)
                figure = parse_figure(line.rstrip("\n"))
                if figure is not None:
                    run.figures.append(figure)
            status = process.wait()
        finally:
            watchdog.cancel()
    run.seconds = time.monotonic() - started
    if timed_out.is_set():
        run.outcome = f"timed out after {timeout_s / 60:.1f} min"
    else:
        run.outcome = "passed" if status == 0 else f"failed (exit {status})"
    return run


def markdown(runs: list[PartRun], note: str, when: datetime, argv: Sequence[str] = ()) -> str:
    """The dated RESULTS.md section for these runs (``argv``: the suite's own arguments)."""
    machine = f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        f"## Reliability suite, {when:%Y-%m-%d %H:%M} UTC",
        "",
        f"`{shlex.join(['python', '-m', PACKAGE, *argv])}` on {machine}. {note}".rstrip(),
        "Each part's own command below reproduces its figures.",
    ]
    for run in runs:
        shown = shlex.join(["python", *run.command[1:]])
        lines += ["", f"### {run.part}: {run.outcome} ({run.seconds:.0f} s)", "", f"`{shown}`"]
        if run.outcome == "missing":
            lines += ["", f"tests/reliability/{run.part}.py is not in this checkout: not run."]
        if run.figures:
            lines += ["", "| figure | value |", "|---|---|"]
            lines += [f"| {name} | {value.replace('|', '/')} |" for name, value in run.figures]
    return "\n".join(lines) + "\n"


def append_section(path: Path, section: str) -> None:
    existing = path.read_text() if path.exists() else ""
    separator = (
        ""
        if not existing or existing.endswith("\n\n")
        else "\n"
        if existing.endswith("\n")
        else "\n\n"
    )
    path.write_text(existing + separator + section)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated, in order")
    parser.add_argument(
        "--part-args",
        action="append",
        default=[],
        metavar='PART="ARGS"',
        help='arguments for one part, e.g. crash="--cycles 3" (repeatable)',
    )
    parser.add_argument("--timeout-minutes", type=float, default=90.0, help="per part")
    parser.add_argument(
        "--note", default="", help="a sentence for RESULTS.md, e.g. the machine's load"
    )
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "eval" / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="print only")
    args = parser.parse_args(argv)
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in args.parts if not p.isidentifier()]
    if unknown:
        parser.error(f"--parts: expected module names like {','.join(PARTS)}; found {unknown}")
    extra: dict[str, list[str]] = {}
    for given in args.part_args:
        part, sep, rest = given.partition("=")
        if not sep or part not in args.parts:
            parser.error(
                f'--part-args: expected PART="ARGS" for one of {args.parts}; found {given!r}'
            )
        extra[part] = shlex.split(rest)
    args.extra = extra
    return args


def _without_note(argv: list[str]) -> list[str]:
    """The suite's arguments as RESULTS.md shows them: the note is shown as text instead."""
    shown: list[str] = []
    skip = False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "--note":
            skip = True
        elif not argument.startswith("--note="):
            shown.append(argument)
    return shown


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    when = datetime.now(UTC)
    runs = [
        run_part(part, args.extra.get(part, []), args.timeout_minutes * 60) for part in args.parts
    ]
    given = sys.argv[1:] if argv is None else argv
    section = markdown(runs, args.note, when, _without_note(given))
    print("\n" + section)
    if not args.no_results:
        append_section(args.results, section)
        print(f"appended to {args.results}")
    return 0 if all(run.passed for run in runs) else 1
