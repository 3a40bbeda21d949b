"""Use cases: batch runs in the service, coding a project's stored transcripts in the background.

A batch is ``intercoder code`` on the project's own transcripts: the same recipe, the same
``run_batch``, the same resumable output folder (``<data_dir>/batches/<project>/<batch>``), run
on one worker thread, one batch at a time, with the service's already loaded encoder. Its row
in the store says where it stands. A service stopped mid-batch stops at the next part and picks
the batch up when it starts again; if the project changed meanwhile, the batch starts over, so
that every row comes from one coder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from codebook.errors import IntercoderError
from codebook.speakers import check_speaker_choice
from models.methods import DEFAULT_EVIDENCE, DEFAULT_METHOD, DEFAULT_TOP, SuggestOptions
from service.app.batch_coding import BatchRequest, run_batch
from service.app.batch_inputs import WorkItem, empty_units, sentence_units
from service.app.batch_output import MERGED_CSV, OutputFormat
from service.app.batch_pipeline import BatchProgress
from service.app.batch_recipes import recipe_from_project
from service.app.workspace import Workspace
from service.errors import ConflictError, NotFoundError
from service.store.batches import (
    BatchRow,
    BatchState,
    batch_exists,
    get_batch,
    insert_batch,
    list_batches,
    set_finished,
    set_progress,
    unfinished_batches,
)
from service.store.database import Store, storage_errors
from service.store.transcripts import list_transcripts, sentences, transcript_speakers

logger = logging.getLogger("intercoder.service.batches")
PARQUET_RESULT = "_result.parquet"


@dataclass(frozen=True)
class BatchSpec:
    """What a client asks a batch to do; None transcripts: every stored transcript."""

    transcript_ids: tuple[str, ...] | None = None
    method: str = DEFAULT_METHOD
    top: int = DEFAULT_TOP
    abstain_below: float = 0.0
    speakers: tuple[str, ...] | None = None
    skip_speakers: tuple[str, ...] | None = None
    output_format: OutputFormat = "parquet"

    def options(self) -> SuggestOptions:
        return SuggestOptions(
            top=self.top,
            evidence=DEFAULT_EVIDENCE,
            abstain_below=self.abstain_below,
            speakers=self.speakers,
            skip_speakers=self.skip_speakers,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BatchSpec:
        data = json.loads(text)
        for name in ("transcript_ids", "speakers", "skip_speakers"):
            data[name] = None if data[name] is None else tuple(data[name])
        return cls(**data)


def submit_batch(workspace: Workspace, project_id: str, spec: BatchSpec) -> BatchRow:
    """Check the request, record it, and queue it; the answer comes back at once."""
    _transcript_ids(workspace.store, project_id, spec)  # unknown transcripts fail now
    with workspace.store.write() as transaction:
        row = insert_batch(transaction.connection, project_id, spec.to_json())
    workspace.batches.submit(lambda: _run_guarded(workspace, row))
    return row


def batch_status(workspace: Workspace, project_id: str, batch_id: str) -> BatchRow:
    with workspace.store.read() as connection:
        return get_batch(connection, project_id, batch_id)


def project_batches(workspace: Workspace, project_id: str) -> list[BatchRow]:
    with workspace.store.read() as connection:
        return list_batches(connection, project_id)


def batch_result(workspace: Workspace, project_id: str, batch_id: str) -> tuple[Path, str]:
    """The finished batch's result file and its format; ConflictError while it runs, or when
    its files are not in this data directory (a backup does not hold them)."""
    row = batch_status(workspace, project_id, batch_id)
    if row.state != "done":
        raise ConflictError(
            f"batch {batch_id} is {row.state}, not done: poll it until its state is done"
            + (f" (it failed: {row.error})" if row.error else "")
        )
    spec = BatchSpec.from_json(row.request)
    folder = batch_folder(workspace, project_id, batch_id)
    name = PARQUET_RESULT if spec.output_format == "parquet" else MERGED_CSV
    if not (folder / name).is_file():
        raise ConflictError(
            f"batch {batch_id} is done, but its results are not on this machine: its files "
            "are not in this data directory, e.g. because the database was restored from a "
            "backup, which holds the database only; run the batch again (a new batch with "
            "the same settings) to get them"
        )
    return folder / name, spec.output_format


def resume_unfinished_batches(workspace: Workspace) -> int:
    """Queue again every batch a stopped service left unfinished; how many."""
    with workspace.store.read() as connection:
        rows = unfinished_batches(connection)
    for row in rows:
        workspace.batches.submit(functools.partial(_run_guarded, workspace, row))
    return len(rows)


def batch_folder(workspace: Workspace, project_id: str, batch_id: str) -> Path:
    return workspace.settings.batches_dir / project_id / batch_id


def remove_project_batches(workspace: Workspace, project_id: str) -> None:
    shutil.rmtree(workspace.settings.batches_dir / project_id, ignore_errors=True)


def remove_orphan_batch_folders(workspace: Workspace, known: set[str]) -> None:
    """Remove the batch results of projects the database no longer has: a crash between a
    project's deletion and the removal of its files must not leave its coded sentences."""
    folder = workspace.settings.batches_dir
    if folder.is_dir():
        for project in folder.iterdir():
            if project.is_dir() and project.name not in known:
                shutil.rmtree(project, ignore_errors=True)


# ----- the worker ---------------------------------------------------------------------------


class _StoppingError(Exception):
    """The service is stopping: leave the batch to resume at the next start."""


def _run_guarded(workspace: Workspace, row: BatchRow) -> None:
    try:
        with storage_errors():  # a full disk is the StorageFullError that says what to do
            _run(workspace, row)
    except _StoppingError:
        _finish(workspace.store, row.id, "interrupted")
    except IntercoderError as error:
        _finish(workspace.store, row.id, "failed", error=str(error))
    except Exception as error:  # a worker thread has nobody else to tell
        if _recorded(workspace.store, row.id):  # else its project's deletion took its folder
            logger.exception("batch %s failed", row.id)
            _finish(workspace.store, row.id, "failed", error=f"{type(error).__name__}: {error}")
    if not _recorded(workspace.store, row.id):
        _remove_deleted_projects_batch(workspace, row)


def _recorded(store: Store, batch_id: str) -> bool:
    with store.read() as connection:
        return batch_exists(connection, batch_id)


def _remove_deleted_projects_batch(workspace: Workspace, row: BatchRow) -> None:
    """The batch's project was deleted while it ran (its row went with it). The deletion
    removed the project's folder, but the batch may have written into it since (its journal,
    a part): checked after the batch's last write, so no coded sentence stays behind."""
    folder = batch_folder(workspace, row.project_id, row.id)
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # the project's folder, unless a namesake uses it
        folder.parent.rmdir()
    logger.info("batch %s stopped: its project %s was deleted", row.id, row.project_id)


def _run(workspace: Workspace, row: BatchRow) -> None:
    if workspace.batches.stopping.is_set():
        raise _StoppingError
    spec = BatchSpec.from_json(row.request)
    ids = _transcript_ids(workspace.store, row.project_id, spec)
    recipe = recipe_from_project(
        workspace, row.project_id, method=spec.method, options=spec.options()
    )
    request = BatchRequest(
        sources=(),
        out=batch_folder(workspace, row.project_id, row.id),
        output_format=spec.output_format,
        replace_other_coder=True,
        work=StoredWork(workspace.store, row.project_id, ids),
    )

    def report(progress: BatchProgress) -> None:
        with workspace.store.write() as transaction:
            still_there = set_progress(transaction.connection, row.id, state="running",
                         items_done=progress.items_done, items_total=progress.items_total,
                         sentences_done=progress.sentences_done)  # fmt: skip
        if workspace.batches.stopping.is_set() or not still_there:
            raise _StoppingError  # stopping, or the project (and the batch) was deleted

    report(BatchProgress(0, len(ids), 0, 0, 0.0))
    # the service's encoder, on its thread, without the embedding cache: a corpus is embedded
    # once, and its vectors would only fill the cache
    coder = recipe.build(encoder=workspace.encoder.without_cache())
    summary = run_batch(recipe, request, coder=coder, progress=report)
    if spec.output_format == "parquet":
        _single_parquet(summary.output, summary.output / PARQUET_RESULT)
    _finish(workspace.store, row.id, "done", summary=json.dumps(summary.as_json()))


def _finish(
    store: Store,
    batch_id: str,
    state: BatchState,
    *,
    summary: str | None = None,
    error: str | None = None,
) -> None:
    with store.write() as transaction:
        set_finished(transaction.connection, batch_id, state, summary=summary, error=error)


def _single_parquet(folder: Path, target: Path) -> None:
    """The parts joined into one file for download, a part at a time (memory stays flat)."""
    import pyarrow.parquet as pq

    parts = sorted(folder.glob("part-*.parquet"))
    temporary = target.with_name(f".{target.name}.tmp")
    schema = pq.read_schema(parts[0]) if parts else None
    if schema is None:
        pd.DataFrame().to_parquet(temporary)
    else:
        with pq.ParquetWriter(temporary, schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=schema))
    temporary.replace(target)


class StoredWork:
    """The work items of a project's stored transcripts: one per transcript, in id order."""

    def __init__(self, store: Store, project_id: str, transcript_ids: Sequence[str]) -> None:
        self.store = store
        self.project_id = project_id
        self.transcript_ids = transcript_ids

    def total(self) -> int:
        return len(self.transcript_ids)

    def items(self, done: frozenset[str]) -> Iterator[WorkItem]:
        for transcript_id in self.transcript_ids:
            key = f"stored:{transcript_id}"
            if key in done:
                continue
            try:
                with self.store.read() as connection:
                    found = sentences(connection, self.project_id, transcript_id)
            except NotFoundError as gone:  # deleted since the batch started: reported, skipped
                yield WorkItem(key, f"transcript {transcript_id}", empty_units(), error=str(gone))
                continue
            yield WorkItem(key, f"transcript {transcript_id}", sentence_units(found))


def _transcript_ids(store: Store, project_id: str, spec: BatchSpec) -> list[str]:
    """The batch's transcripts, each checked to exist, with the speaker choice checked
    against all their speakers; every stored transcript when none are named."""
    with store.read() as connection:
        if spec.transcript_ids is None:
            ids = _all_transcript_ids(connection, project_id)
        else:
            ids = list(dict.fromkeys(spec.transcript_ids))
        speakers = [
            name for tid in ids for name in transcript_speakers(connection, project_id, tid)
        ]
    check_speaker_choice(speakers, speakers=spec.speakers, skip_speakers=spec.skip_speakers)
    return ids


def _all_transcript_ids(connection: sqlite3.Connection, project_id: str) -> list[str]:
    ids: list[str] = []
    while True:
        page = list_transcripts(connection, project_id, after=ids[-1] if ids else "", limit=500)
        ids += [row.id for row in page]
        if len(page) < 500:
            return ids
