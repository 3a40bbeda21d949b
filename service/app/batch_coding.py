"""Use case: code many transcripts in one run (``intercoder code``, and the service's batches).

The coder is built once (model and exemplars loaded once), then the inputs stream through it a
chunk of sentences at a time: read, split, code, write a part, record it. Memory holds one chunk
whatever the corpus size; an interrupted run (Ctrl-C, kill -9, a crash) started again with the
same arguments continues after the last recorded part (``service.app.batch_output``). A
transcript that cannot be read is reported and skipped, or stops the run with ``strict``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from codebook.errors import TranscriptError
from codebook.transcripts import Segmenter
from models.project_coder import ProjectCoder
from service.app.batch_inputs import InputSource, WorkItem, count_work, iter_work
from service.app.batch_output import DoneTotals, OutputFolder, OutputFormat
from service.app.batch_rows import CoderRecipe, code_units

DEFAULT_CHUNK_SENTENCES = 2048


@dataclass(frozen=True)
class BatchProgress:
    """Where a run stands, reported after every part and every unreadable input."""

    items_done: int
    items_total: int
    sentences_done: int
    sentences_this_run: int
    seconds: float


@dataclass(frozen=True)
class Unreadable:
    source: str
    reason: str


@dataclass(frozen=True)
class BatchSummary:
    """What a run produced, with everything the folder holds from earlier runs included."""

    output: Path
    totals: DoneTotals
    sentences_this_run: int
    seconds_this_run: float
    unreadable: tuple[Unreadable, ...]
    trust: dict[str, str] | None
    """Each code's verdict from the project's last evaluation; None when never evaluated."""
    model_id: str
    method: str

    def as_json(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "sentences": self.totals.sentences,
            "transcripts": self.totals.transcripts,
            "abstained": self.totals.abstained,
            "skipped": self.totals.skipped,
            "no_code": self.totals.no_code,
            "code_counts": self.totals.code_counts,
            "trust": self.trust,
            "model_id": self.model_id,
            "method": self.method,
            "unreadable": [{"source": u.source, "reason": u.reason} for u in self.unreadable],
            "sentences_this_run": self.sentences_this_run,
            "seconds_this_run": round(self.seconds_this_run, 3),
        }


class StrictStopError(TranscriptError):
    """``strict``: an input could not be read, so the run stopped (after saving what it coded)."""


@dataclass(frozen=True)
class BatchRequest:
    """A batch run: what to read, where to write, how."""

    sources: Sequence[InputSource]
    out: Path
    output_format: OutputFormat = "parquet"
    chunk_sentences: int = DEFAULT_CHUNK_SENTENCES
    strict: bool = False
    restart: bool = False


ProgressCallback = Callable[[BatchProgress], None]


def run_batch(
    recipe: CoderRecipe,
    request: BatchRequest,
    *,
    coder: ProjectCoder | None = None,
    progress: ProgressCallback | None = None,
) -> BatchSummary:
    """Code every input not yet coded into ``request.out`` and summarise the folder."""
    coder = coder or recipe.build()
    started = time.perf_counter()
    with OutputFolder(request.out, request.output_format) as folder:
        if request.restart:
            folder.discard()
        folder.claim(recipe.fingerprint(coder.encoder.model_id), described(recipe, coder))
        done = folder.done_keys()
        total = count_work(request.sources, request.chunk_sentences)
        run = _Run(folder, coder, recipe, request, progress, started, len(done), total)
        run.code(iter_work(request.sources, table_rows=request.chunk_sentences,
                           segmenter=Segmenter(), done=done))  # fmt: skip
        output = folder.finish()
        summary = BatchSummary(
            output=output,
            totals=folder.totals(),
            sentences_this_run=run.sentences,
            seconds_this_run=time.perf_counter() - started,
            unreadable=tuple(run.unreadable),
            trust=recipe.evaluated,
            model_id=coder.state.model_id,
            method=coder.state.method,
        )
        folder.write_summary(summary.as_json())
    return summary


class _Run:
    """One pass over the pending work: chunks of items coded and written as parts."""

    def __init__(
        self,
        folder: OutputFolder,
        coder: ProjectCoder,
        recipe: CoderRecipe,
        request: BatchRequest,
        progress: ProgressCallback | None,
        started: float,
        items_done: int,
        items_total: int,
    ) -> None:
        self.folder = folder
        self.coder = coder
        self.recipe = recipe
        self.request = request
        self.progress = progress
        self.started = started
        self.items_done = items_done
        self.items_total = max(items_total, items_done)
        self.sentences_before = folder.totals().sentences
        self.sentences = 0
        self.unreadable: list[Unreadable] = []

    def code(self, items: Iterable[WorkItem]) -> None:
        pending: list[WorkItem] = []
        size = 0
        for item in items:
            if item.error is not None:
                self._unreadable(item, pending)
                continue
            pending.append(item)
            size += len(item.units)
            if size >= self.request.chunk_sentences:
                self._write(pending)
                pending, size = [], 0
        self._write(pending)

    def _unreadable(self, item: WorkItem, pending: list[WorkItem]) -> None:
        self.unreadable.append(Unreadable(item.source, item.error or ""))
        if self.request.strict:
            self._write(pending)  # what was coded before the stop is kept
            raise StrictStopError(
                f"{item.source} could not be read ({item.error}); without --strict it would be "
                "reported and skipped; the sentences coded before it are saved"
            )
        self._report()

    def _write(self, pending: list[WorkItem]) -> None:
        if not pending:
            return
        units = pd.concat([item.units.assign(source=item.source) for item in pending])
        rows = code_units(self.coder, self.recipe.options, units)
        coded, start = [], 0
        for item in pending:
            coded.append((item.key, rows.iloc[start : start + len(item.units)]))
            start += len(item.units)
        self.folder.write_part(coded)
        self.items_done += len(pending)
        self.sentences += len(rows)
        self._report()

    def _report(self) -> None:
        if self.progress is None:
            return
        self.progress(
            BatchProgress(
                items_done=self.items_done + len(self.unreadable),
                items_total=self.items_total,
                sentences_done=self.sentences_before + self.sentences,
                sentences_this_run=self.sentences,
                seconds=time.perf_counter() - self.started,
            )
        )


def described(recipe: CoderRecipe, coder: ProjectCoder) -> dict[str, object]:
    """What an output folder's ``_run.json`` says wrote it (with the fingerprint)."""
    state = coder.state
    return {
        "coder": f"{state.method} on {state.exemplar_count} exemplars, codebook "
        f"{state.codebook_version}, model {state.model_id}",
        "method": state.method,
        "cold_start": state.cold_start,
        "exemplars": state.exemplar_count,
        "codebook_version": state.codebook_version,
        "model_id": state.model_id,
        "options": repr(recipe.options),
    }
