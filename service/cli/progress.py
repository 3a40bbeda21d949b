"""A progress bar on a terminal, silence in a pipe: what long commands show while they work.

:func:`batch_progress` draws a bar over a batch run's items; :func:`step_progress` names the
step a command is in (loading the model, embedding N sentences, fitting) beside a spinner and
leaves each finished step as a line with its time. The application layer reports its steps
through a plain ``Callable[[str], None]``, so it needs neither rich nor typer.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.app.batch_pipeline import BatchProgress


QUIET_HELP = "No progress on stderr (shown only on a terminal anyway)."


def shows_progress(quiet: bool) -> bool:
    """Progress goes to stderr, and only where a person watches it."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def batch_progress(quiet: bool, total: int) -> Iterator[Callable[[BatchProgress], None] | None]:
    """A callback drawing a run's progress (items, sentences/s, ETA), or None in a pipe."""
    if not shows_progress(quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("coding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[sentences]} sentences, {task.fields[rate]}/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("coding", total=total, sentences=0, rate="-")

        def update(progress: BatchProgress) -> None:
            rate = progress.sentences_this_run / max(progress.seconds, 1e-9)
            bar.update(
                task,
                completed=progress.items_done,
                total=max(progress.items_total, progress.items_done),
                sentences=f"{progress.sentences_done:,}",
                rate=f"{rate:,.0f}",
            )

        yield update


@contextmanager
def step_progress(quiet: bool) -> Iterator[Callable[[str], None]]:
    """A callback that starts the named step (ending the one before); silent in a pipe."""
    if not shows_progress(quiet):
        yield lambda _: None
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True)
    current: list[tuple[str, float]] = []  # the step under way and when it started

    def finish_current() -> None:
        if current:
            name, started = current.pop()
            seconds = time.perf_counter() - started
            console.print(f"{escape(name)} ({seconds:.1f} s)", style="dim")

    with console.status("starting") as status:

        def step(name: str) -> None:
            finish_current()
            current.append((name, time.perf_counter()))
            status.update(f"{escape(name)}...")

        yield step
        finish_current()
