"""The service's one encoder thread, which embeds concurrent requests' texts together.

Every encode of the service (suggestions, exemplar uploads, decisions, batch runs) is a job on
one worker thread. The model already spreads one call over every core; calling it from many
request threads would also give each calling thread its own thread team, and idle teams
spinning beside the busy one cost more than they help on a small machine; neither the models
nor the embedding cache's counters promise thread safety either.

Micro-batching: while the model runs, the jobs of other requests queue up. The worker then
takes every queued job of the same encoder (up to ``max_batch_texts`` texts), embeds their
texts in ONE model call and hands each request its own rows. A model call has a fixed cost
(tokenising, thread start-up, padding) that twenty one-sentence requests pay twenty times when
encoded one by one, and once when encoded together; no request waits for a batch to fill: the
worker takes what is queued when it is free. The vectors are those of encoding each request
alone, up to float rounding (a batch pads its texts to its longest one, and padded positions
are masked). Texts already in the embedding cache are read from it, never encoded again; a
text two requests share is encoded once. Should a batch fail (one request's text the cache or
model refuses), each of its requests is encoded alone, so a failure stays its own request's.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from models.cache import CachedEncoder
from models.encoder import Embeddings, Encoder, EncoderWrapper

logger = logging.getLogger("intercoder.service")
BatchObserver = Callable[[int, int], None]
"""Told each model call's request and text counts (the service's metrics)."""


@dataclass
class _Job:
    encoder: Encoder
    texts: list[str]
    future: Future[Embeddings] = field(default_factory=Future)


_STOP = None  # queued by close(): the worker finishes the jobs before it, then exits


class SerialEncoder(EncoderWrapper):
    """Runs every encode on one dedicated thread, several requests' texts in one model call.

    ``micro_batching=False`` encodes each request's texts alone, one request after another (as
    the service did before; kept as a setting for comparisons and as a way back).
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        micro_batching: bool = True,
        max_batch_texts: int = 256,
        observe: BatchObserver | None = None,
    ) -> None:
        super().__init__(encoder)
        if max_batch_texts < 1:
            raise ValueError(f"max_batch_texts must be at least 1, got {max_batch_texts}")
        self.micro_batching = micro_batching
        self.max_batch_texts = max_batch_texts
        self._observe = observe
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="encoder", daemon=True)
        self._thread.start()

    def encode(self, texts: list[str]) -> Embeddings:
        return self.encode_with(self.encoder, texts)

    def encode_with(self, encoder: Encoder, texts: list[str]) -> Embeddings:
        """``encoder.encode(texts)`` on the encoder thread, batched with other requests'."""
        job = _Job(encoder, list(texts))
        with self._close_lock:
            if self._closed:
                raise RuntimeError("the encoder is closed; the service is stopping")
            self._jobs.put(job)
        return job.future.result()

    def without_cache(self) -> Encoder:
        """The same model on the same thread, bypassing the embedding cache."""
        inner = self.encoder.encoder if isinstance(self.encoder, CachedEncoder) else self.encoder
        return _OnThread(inner, self)

    def close(self) -> None:
        """Finish the queued jobs, stop the thread, close the embedding cache."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._jobs.put(_STOP)
        self._thread.join()
        if isinstance(self.encoder, CachedEncoder):
            self.encoder.cache.close()

    # ----- the worker thread -----------------------------------------------------------------

    def _run(self) -> None:
        pending: deque[_Job] = deque()
        stopping = False
        while pending or not stopping:
            if not pending:
                first = self._jobs.get()
                if first is _STOP:
                    stopping = True
                    continue
                pending.append(first)
            stopping = self._drain(pending) or stopping
            self._encode_batch(self._take_batch(pending))

    def _drain(self, pending: deque[_Job]) -> bool:
        """Move every job queued now into ``pending``; True when the stop came with them."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return False
            if job is _STOP:
                return True
            pending.append(job)

    def _take_batch(self, pending: deque[_Job]) -> list[_Job]:
        """The oldest job and, micro-batching, the next ones of the same encoder that fit."""
        batch = [pending.popleft()]
        texts = len(batch[0].texts)
        while self.micro_batching and pending and pending[0].encoder is batch[0].encoder:
            if texts + len(pending[0].texts) > self.max_batch_texts:
                break
            texts += len(pending[0].texts)
            batch.append(pending.popleft())
        return batch

    def _encode_batch(self, batch: list[_Job]) -> None:
        if len(batch) == 1:
            _encode_alone(batch[0])
            self._observed(1, len(batch[0].texts))
            return
        texts = [text for job in batch for text in job.texts]
        try:
            vectors = batch[0].encoder.encode(texts)
        except Exception:
            # One request's texts may be what failed: each answers for its own.
            logger.warning("a batch of %d encodes failed; encoding each alone", len(batch))
            for job in batch:
                _encode_alone(job)
            return
        self._observed(len(batch), len(texts))
        start = 0
        for job in batch:
            end = start + len(job.texts)
            job.future.set_result(np.array(vectors[start:end], dtype=np.float32))
            start = end

    def _observed(self, requests: int, texts: int) -> None:
        if self._observe is not None:
            self._observe(requests, texts)


def _encode_alone(job: _Job) -> None:
    try:
        job.future.set_result(job.encoder.encode(job.texts))
    except BaseException as error:  # the request's own failure, raised in its own thread
        job.future.set_exception(error)


class _OnThread(EncoderWrapper):
    """An encoder whose encodes run on the service's encoder thread (batched like the rest)."""

    def __init__(self, encoder: Encoder, worker: SerialEncoder) -> None:
        super().__init__(encoder)
        self._worker = worker

    def encode(self, texts: list[str]) -> Embeddings:
        return self._worker.encode_with(self.encoder, texts)
