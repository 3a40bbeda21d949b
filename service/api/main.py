"""The FastAPI application: ``create_app(settings)`` and what it does at start and stop.

At start (the lifespan), once per process: open the store, refuse to run where API keys are
required and none exists, load the encoder (behind the embedding cache), re-embed exemplars
stored by another model, open every project's index (rebuilding any that is out of step with the
database), and start the periodic index saver. At stop (uvicorn's graceful shutdown on SIGTERM,
after in-flight requests finish): save changed indexes and close the database.

Middleware, outermost first: the request log (id, timing, metrics), the catch-all that turns
unexpected errors into 500 problems, the host check (a server without keys answers only its
own host names: no DNS rebinding), the admission limit (a bounded queue for everything but
reads; 503 with Retry-After beyond it), the request-size guard, then the security headers (CSP)
of the review page, which ``service.web`` mounts in the same app.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from models.encoder import Encoder
from service.api import (
    batches,
    decisions,
    evaluations,
    exemplars,
    next_units,
    ops,
    projects,
    refi,
    suggestions,
    transcripts,
)
from service.api.admission import AdmissionLimit
from service.api.hosts import HostCheck
from service.api.limits import BodySizeLimit
from service.api.problems import (
    CatchAllProblems,
    declare_server_problems,
    install_problem_handlers,
)
from service.api.request_log import RequestLog
from service.app.lifecycle import close_workspace, open_workspace
from service.metrics import Metrics, configure_logging
from service.settings import Settings, get_settings
from service.web.mount import install_page

DESCRIPTION = """\
Suggests qualitative codes for interview sentences from the sentences your team already coded,
shows the exemplars behind every suggestion, and learns from each accepted or changed coding at
once. Errors are `application/problem+json`. Transcripts never leave this machine.

**Credentials.** Where keys are required (any non-loopback address, or `require_api_keys`),
send the key as `Authorization: Bearer <key>` or as `X-API-Key: <key>`. A request that sends
both must send the same key in both, and an `Authorization` header must be a bearer token: a
request whose credentials disagree is refused with 401, never let in on the one that is right.
A key for one project gets 403 on every other project and on the operations that need a key
for every project (creating or importing a project, /metrics), before its body is read.

**Text.** Every text in a request must be Unicode: a JSON string with a lone surrogate escape
(`"\\ud800"` without its pair) is refused with a 422 problem naming the field.
"""


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> FastAPI:
    """The service. ``encoder`` replaces the configured model (tests pass a tiny one)."""
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        state, saver = await run_in_threadpool(
            functools.partial(open_workspace, run_batches=True), settings, encoder, metrics
        )
        app.state.service = state
        try:
            yield
        finally:
            await run_in_threadpool(close_workspace, state, saver)

    app = FastAPI(
        title="intercoder",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        # served by the page package from its own files: the defaults load from a CDN
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    declare_server_problems(app)
    routers = (
        ops,
        refi,
        projects,
        exemplars,
        transcripts,
        suggestions,
        next_units,
        decisions,
        evaluations,
        batches,
    )
    for module in routers:
        app.include_router(module.router)
    install_page(app)  # the review page, its static files, /docs and /redoc
    # add_middleware wraps what is already there, so the last added runs first.
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(
        AdmissionLimit,
        active=settings.max_active_requests,
        queued=settings.max_queued_requests,
        metrics=metrics,
    )
    app.add_middleware(HostCheck, settings=settings)
    app.add_middleware(CatchAllProblems)
    app.add_middleware(RequestLog, metrics=metrics)
    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory service.api.main:app_from_environment`` (INTERCODER_* settings)."""
    return create_app(get_settings())
