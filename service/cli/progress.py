"""A progress bar on a terminal, silence in a pipe: what long commands show while they work.

:func:`batch_progress` draws a bar over a batch run's items; :func:`step_progress` names the
step a command is in (loading the model, embedding N sentences, fitting) beside a spinner and
leaves each finished step as a line with its time; :func:`training_progress` draws a bar with
an ETA for each phase of ``intercoder train``. The application layer reports its steps through
plain callables, so it needs neither rich nor typer.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.train_progress import TrainProgress
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


@contextmanager
def training_progress(
    quiet: bool,
) -> Iterator[tuple[Callable[[str], None], Callable[[TrainProgress], None]]]:
    """Two callbacks: one for lines (printed on stderr unless quiet, even in a pipe, so a log
    keeps the estimate) and one drawing each phase's bar with its ETA on a terminal (in a pipe,
    a line with each phase's time as it ends, to set beside the estimate)."""
    import typer

    if quiet:
        yield (lambda line: None), (lambda _: None)
        return
    if not shows_progress(quiet):
        say = functools.partial(typer.echo, err=True)
        yield say, _phase_ends(say)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def report(progress: TrainProgress) -> None:
            if progress.phase not in tasks:
                # Started at what is done already (a continued run's steps), so the ETA counts
                # only the pace of this run.
                tasks[progress.phase] = bar.add_task(
                    progress.phase, total=progress.total, completed=progress.done, loss=""
                )
            loss = progress.held_out_loss
            shown = f"held-out loss {loss:.3f}" if loss is not None else ""
            bar.update(tasks[progress.phase], completed=progress.done, loss=shown)

        yield (lambda line: bar.console.print(escape(line))), report


def _phase_ends(say: Callable[[str], None]) -> Callable[[TrainProgress], None]:
    """A callback saying each phase's time once it has done all it had to."""
    started: dict[str, float] = {}
    ended: set[str] = set()

    def report(progress: TrainProgress) -> None:
        started.setdefault(progress.phase, time.perf_counter())
        if progress.done >= progress.total and progress.phase not in ended:
            ended.add(progress.phase)
            seconds = time.perf_counter() - started[progress.phase]
            say(f"{progress.phase}: {progress.total:,} done in {seconds:.0f} s")

    return report
