"""Admission: a bounded queue in front of the work that takes the model and the cores.

Reads (GET, HEAD, OPTIONS) always pass at once: they touch only the database and the
in-memory indexes, and must answer while the encoder or a project's fit is busy. Every other
request (suggestions, uploads, decisions, evaluations, imports) takes one of
``max_active_requests`` places before it runs; while none is free it waits here, in the event
loop, holding no worker thread, so the threads left stay free for reads. At most
``max_queued_requests`` wait; one more means the service is beyond what it can serve in good
time, and it answers 503 with ``Retry-After`` at once instead of letting the client hang or
time out. A place frees the moment its request ends, so the service recovers as soon as the
load drops: nothing is remembered of the overload but a counter.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import send_problem
from service.errors import OverloadedError
from service.metrics import Metrics

RETRY_AFTER_SECONDS = 1
"""What a refused client is told to wait: places free within a request's time (well under a
second for a suggestion), and a client that retries sooner only meets the same full queue."""
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AdmissionLimit:
    """Runs at most ``active`` non-read requests at once, queues ``queued`` more, refuses the
    rest with a 503 problem and ``Retry-After``."""

    def __init__(self, app: ASGIApp, *, active: int, queued: int, metrics: Metrics) -> None:
        self.app = app
        self.active = active
        self.queued = queued
        self.metrics = metrics
        self._places: anyio.Semaphore | None = None  # made in the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return
        if self._places is None:
            self._places = anyio.Semaphore(self.active)
        places = self._places
        if places.value == 0 and places.statistics().tasks_waiting >= self.queued:
            self.metrics.overloaded.inc()
            error = OverloadedError(
                f"the service is at capacity: {self.active} requests running and "
                f"{self.queued} waiting; try again in {RETRY_AFTER_SECONDS} s (Retry-After)",
                RETRY_AFTER_SECONDS,
            )
            await send_problem(scope, send, error)
            return
        self.metrics.requests_waiting.inc()
        try:
            await places.acquire()
        finally:
            self.metrics.requests_waiting.dec()
        try:
            await self.app(scope, receive, send)
        finally:
            places.release()
