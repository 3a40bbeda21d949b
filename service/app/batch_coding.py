"""Use case: code many transcripts in one run (``intercoder code``, and the service's batches).

The coder is built once (model and exemplars loaded once), then the inputs stream through it a
chunk of sentences at a time: read, split, code, write a part, record it. Memory holds one chunk
whatever the corpus size; an interrupted run (Ctrl-C, kill -9, a crash) started again with the
same arguments continues after the last recorded part (``service.app.batch_output``). A
transcript that cannot be read is reported and skipped, or stops the run with ``strict``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.report_model import TrustVerdict
from eval.trust import verdict_counts
from models.data_warnings import DataWarning, data_warnings
from models.project_coder import CoderState, ProjectCoder
from service.app.batch_inputs import FileWork, InputSource, Work
from service.app.batch_output import DoneTotals, OutputFolder, OutputFormat
from service.app.batch_pipeline import BatchPass, ProgressCallback, Unreadable
from service.app.batch_rows import CoderRecipe

DEFAULT_CHUNK_SENTENCES = 2048
TABLE_ROWS = 2048


@dataclass(frozen=True)
class BatchSummary:
    """What a run produced, with everything the folder holds from earlier runs included."""

    output: Path
    totals: DoneTotals
    sentences_this_run: int
    seconds_this_run: float
    unreadable: tuple[Unreadable, ...]
    trust: dict[str, TrustVerdict]
    """Each codable code's trust verdict (``eval.trust``), ``not_evaluated`` where no
    evaluation of the method covers it."""
    model_id: str
    method: str
    warnings: tuple[DataWarning, ...]
    """The coder's data warnings over the whole folder (:func:`summary_warnings`)."""
    unheard_speakers: tuple[str, ...] = ()
    """Speakers the run was told to code who never spoke in what it coded (a typo, often)."""

    def as_json(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "sentences": self.totals.sentences,
            "transcripts": self.totals.transcripts,
            "abstained": self.totals.abstained,
            "skipped": self.totals.skipped,
            "no_code": self.totals.no_code,
            "code_counts": self.totals.code_counts,
            "trust": {code: verdict.kind for code, verdict in self.trust.items()},
            "trust_counts": verdict_counts(verdict.kind for verdict in self.trust.values()),
            "model_id": self.model_id,
            "method": self.method,
            "warnings": [warning.as_json() for warning in self.warnings],
            "unreadable": [{"source": u.source, "reason": u.reason} for u in self.unreadable],
            "sentences_this_run": self.sentences_this_run,
            "seconds_this_run": round(self.seconds_this_run, 3),
        }


@dataclass(frozen=True)
class BatchRequest:
    """A batch run: what to read, where to write, how."""

    sources: Sequence[InputSource]
    out: Path
    output_format: OutputFormat = "parquet"
    chunk_sentences: int = DEFAULT_CHUNK_SENTENCES
    table_rows: int = TABLE_ROWS
    """Rows of a table read as one work item: fixed, not ``chunk_sentences``, because the
    journal names a table's items by their first row, and a resumed run with another chunk size
    must find the same items."""
    strict: bool = False
    restart: bool = False
    replace_other_coder: bool = False
    """A folder written by another coder: refused (the CLI), or started over (a service batch
    resumed after the project changed)."""
    work: Work | None = None
    """Where the units come from; None: the ``sources`` files."""

    def work_items(self) -> Work:
        return self.work or FileWork(self.sources, self.table_rows)


def run_batch(
    recipe: CoderRecipe,
    request: BatchRequest,
    *,
    coder: ProjectCoder | None = None,
    progress: ProgressCallback | None = None,
) -> BatchSummary:
    """Code every input not yet coded into ``request.out`` and summarise the folder."""
    coder = coder or recipe.build()  # the model and the exemplars' index, loaded once
    started = time.perf_counter()
    with OutputFolder(request.out, request.output_format) as folder:
        if request.restart:
            folder.discard()
        folder.claim(
            recipe.fingerprint(coder.encoder.model_id),
            described(recipe, coder),
            replace_other=request.replace_other_coder,
        )
        done = folder.done_keys()
        work = request.work_items()
        run = BatchPass(
            folder,
            coder,
            recipe.options,
            chunk_sentences=request.chunk_sentences,
            strict=request.strict,
            progress=progress,
            items_done=len(done),
            items_total=work.total(),
        )
        run.run(work.items(done))
        output = folder.finish()
        totals = folder.totals()
        summary = BatchSummary(
            output=output,
            totals=totals,
            sentences_this_run=run.sentences,
            seconds_this_run=time.perf_counter() - started,
            unreadable=tuple(run.unreadable),
            trust=recipe.trust,
            model_id=coder.state.model_id,
            method=coder.state.method,
            warnings=summary_warnings(coder.state, totals),
            unheard_speakers=_unheard(recipe.options.speakers, run),
        )
        folder.write_summary(summary.as_json())
    return summary


def summary_warnings(state: CoderState, totals: DoneTotals) -> tuple[DataWarning, ...]:
    """The cold start, thin codes, and a code decided on most of the folder's coded sentences
    far more often than the exemplars carry it (``models.data_warnings``)."""
    coded = totals.sentences - totals.skipped
    return data_warnings(
        state.cold_start, state.exemplar_count, state.coverage, totals.code_counts, coded
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


def _unheard(named: tuple[str, ...] | None, run: BatchPass) -> tuple[str, ...]:
    if named is None or not run.sentences:
        return ()
    return tuple(name for name in named if name not in run.speakers)
