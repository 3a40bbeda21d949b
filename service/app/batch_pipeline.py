"""One pass of a batch run over its pending work, with the encoder kept busy.

Work items are gathered into chunks of about ``chunk_sentences``; each chunk is embedded,
coded and written as one part. The encoder is by far the slowest step, so it works ahead: while
it embeds the next chunk on a helper thread (torch and ONNX Runtime release the GIL and use the
cores), this thread reads and splits the inputs, and scores, explains and writes the chunk
before. At most two chunks are in memory.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from models.encoder import Embeddings
from models.methods import SuggestOptions
from models.project_coder import ProjectCoder
from service.app.batch_inputs import WorkItem
from service.app.batch_output import OutputFolder
from service.app.batch_rows import code_units, embed_units
from service.errors import StrictStopError


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
class _Chunk:
    items: list[WorkItem]
    units: pd.DataFrame


@dataclass(frozen=True)
class _Stop:
    """``strict``: the unreadable item the run stops at, once the chunks before are written."""

    item: WorkItem


ProgressCallback = Callable[[BatchProgress], None]


class BatchPass:
    """Codes the pending work items into ``folder``'s parts; counts what it did."""

    def __init__(
        self,
        folder: OutputFolder,
        coder: ProjectCoder,
        options: SuggestOptions,
        *,
        chunk_sentences: int,
        strict: bool,
        progress: ProgressCallback | None,
        items_done: int,
        items_total: int,
    ) -> None:
        self.folder = folder
        self.coder = coder
        self.options = options
        self.chunk_sentences = chunk_sentences
        self.strict = strict
        self.progress = progress
        self.started = time.perf_counter()
        self.items_done = items_done
        self.items_total = max(items_total, items_done)
        self.sentences_before = folder.totals().sentences
        self.sentences = 0
        self.unreadable: list[Unreadable] = []
        self.speakers: set[str] = set()
        """Everyone who speaks in the units this pass coded."""

    def run(self, items: Iterable[WorkItem]) -> None:
        # The fitted coder's objects (exemplar texts, the model) live as long as the run:
        # moved out of the collector's sight, they stop making each collection slower.
        gc.freeze()
        encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-encoder")
        try:
            self._pipeline(self._chunks(items), encoder)
        finally:
            encoder.shutdown(wait=True, cancel_futures=True)
            gc.unfreeze()

    def _pipeline(self, chunks: Iterator[_Chunk | _Stop], encoder: ThreadPoolExecutor) -> None:
        current = next(chunks, None)
        embedding = self._embed_ahead(current, encoder)
        while current is not None:
            following = next(chunks, None)  # read and split while the encoder works
            vectors = embedding.result() if embedding is not None else None
            embedding = self._embed_ahead(following, encoder)
            if isinstance(current, _Stop):
                self._stop(current.item)
            else:
                assert vectors is not None
                self._write(current, vectors)
            current = following

    def _embed_ahead(
        self, chunk: _Chunk | _Stop | None, encoder: ThreadPoolExecutor
    ) -> Future[Embeddings] | None:
        if not isinstance(chunk, _Chunk):
            return None
        return encoder.submit(embed_units, self.coder, self.options, chunk.units)

    def _chunks(self, items: Iterable[WorkItem]) -> Iterator[_Chunk | _Stop]:
        pending: list[WorkItem] = []
        size = 0
        for item in items:
            if item.error is not None:
                if self.strict:
                    if pending:
                        yield _chunk(pending)
                    yield _Stop(item)
                    return
                self.unreadable.append(Unreadable(item.source, item.error))
                self._report()
                continue
            pending.append(item)
            size += len(item.units)
            if size >= self.chunk_sentences:
                yield _chunk(pending)
                pending, size = [], 0
        if pending:
            yield _chunk(pending)

    def _stop(self, item: WorkItem) -> None:
        self.unreadable.append(Unreadable(item.source, item.error or ""))
        raise StrictStopError(
            f"{item.source} could not be read ({item.error}); without --strict it would be "
            "reported and skipped; the sentences coded before it are saved"
        )

    def _write(self, chunk: _Chunk, vectors: Embeddings) -> None:
        rows = code_units(self.coder, self.options, chunk.units, vectors)
        self.speakers.update(chunk.units["speaker"].astype(str))
        coded, start = [], 0
        for item in chunk.items:
            coded.append((item.key, rows.iloc[start : start + len(item.units)]))
            start += len(item.units)
        self.folder.write_part(coded)
        self.items_done += len(chunk.items)
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


def _chunk(items: list[WorkItem]) -> _Chunk:
    units = pd.concat([item.units.assign(source=item.source) for item in items], ignore_index=True)
    return _Chunk(list(items), units)
