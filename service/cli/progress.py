"""A progress bar on a terminal, silence in a pipe: what long commands show while they work."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.app.batch_pipeline import BatchProgress


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
