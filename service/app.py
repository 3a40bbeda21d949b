"""The FastAPI application: ``create_app(settings)`` and what it does at start and stop.

At start (the lifespan), once per process: open the store, refuse to run where API keys are
required and none exists, load the encoder (behind the embedding cache), re-embed exemplars
stored by another model, open every project's index (rebuilding any that is out of step with the
database), and start the periodic index saver. At stop (uvicorn's graceful shutdown on SIGTERM,
after in-flight requests finish): save changed indexes and close the database.

Middleware, outermost first: the request log (id, timing, metrics), the catch-all that turns
unexpected errors into 500 problems, then the request-size guard.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from codebook.errors import ConfigurationError
from models.cache import CachedEncoder, EmbeddingCache
from models.context import encode_units
from models.encoder import Encoder
from service.api import (
    decisions,
    evaluations,
    exemplars,
    ops,
    projects,
    refi,
    suggestions,
    transcripts,
)
from service.api.engine import SuggestionEngine
from service.api.state import SerialEncoder, ServiceState
from service.metrics import Metrics, RequestLog, configure_logging
from service.problems import CatchAllProblems, install_problem_handlers
from service.project_index import ProjectIndexes
from service.security import BodySizeLimit, check_can_start
from service.settings import Settings, get_settings
from service.store import Store
from service.store_exemplars import embedded_with_other_models, replace_embeddings
from service.store_projects import all_projects

logger = logging.getLogger("intercoder.service")
_REEMBED_BATCH = 256

DESCRIPTION = """\
Suggests qualitative codes for interview sentences from the sentences your team already coded,
shows the exemplars behind every suggestion, and learns from each accepted or changed coding at
once. Errors are `application/problem+json`. Transcripts never leave this machine.
"""


def create_app(settings: Settings | None = None, *, encoder: Encoder | None = None) -> FastAPI:
    """The service. ``encoder`` replaces the configured model (tests pass a tiny one)."""
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        state, saver = await run_in_threadpool(open_service, settings, encoder, metrics)
        app.state.service = state
        try:
            yield
        finally:
            await run_in_threadpool(close_service, state, saver)

    app = FastAPI(
        title="intercoder",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    routers = (ops, refi, projects, exemplars, transcripts, suggestions, decisions, evaluations)
    for module in routers:
        app.include_router(module.router)
    # add_middleware wraps what is already there, so the last added runs first.
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(CatchAllProblems)
    app.add_middleware(RequestLog, metrics=metrics)
    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory service.app:app_from_environment``: settings from INTERCODER_*."""
    return create_app(get_settings())


class IndexSaver:
    """Saves changed project indexes every ``interval`` seconds on a background thread."""

    def __init__(self, indexes: ProjectIndexes, interval: float) -> None:
        self.indexes = indexes
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.indexes.save_changed()


def open_service(
    settings: Settings, encoder: Encoder | None, metrics: Metrics
) -> tuple[ServiceState, IndexSaver]:
    store = Store(settings.database_path)
    chosen: SerialEncoder | None = None
    try:
        check_can_start(settings, store)
        chosen = SerialEncoder(encoder or _configured_encoder(settings))
        indexes = ProjectIndexes(settings.projects_dir, model_id=chosen.model_id, dim=chosen.dim)
        state = ServiceState(
            settings=settings,
            store=store,
            encoder=chosen,
            indexes=indexes,
            engine=SuggestionEngine(
                store, indexes, chosen, background_fit_seconds=settings.background_fit_seconds
            ),
            metrics=metrics,
        )
        _open_projects(state)
    except BaseException:
        store.close()
        if chosen is not None:
            chosen.close()
        raise
    saver = IndexSaver(indexes, settings.index_save_seconds)
    saver.start()
    logger.info(
        "service ready",
        extra={"model_id": chosen.model_id, "data_dir": str(settings.data_dir)},
    )
    return state, saver


def close_service(state: ServiceState, saver: IndexSaver) -> None:
    saver.stop()
    saved = state.indexes.save_changed()
    state.store.close()
    state.encoder.close()
    logger.info("service stopped", extra={"indexes_saved": saved})


def _open_projects(state: ServiceState) -> None:
    with state.store.read() as connection:
        projects_now = all_projects(connection)
    for project in projects_now:
        _reembed_if_model_changed(state, project.id)
        state.open_project_index(project.id)
    state.indexes.remove_orphans({project.id for project in projects_now})


def _reembed_if_model_changed(state: ServiceState, project_id: str) -> None:
    """Exemplars embedded by another model are embedded again, so every vector compares."""
    with state.store.read() as connection:
        stale = embedded_with_other_models(connection, project_id, state.encoder.model_id)
    if not stale:
        return
    logger.warning(
        "re-embedding %d exemplars of project %s with %s",
        len(stale),
        project_id,
        state.encoder.model_id,
    )
    for start in range(0, len(stale), _REEMBED_BATCH):
        batch = stale[start : start + _REEMBED_BATCH]
        vectors = encode_units(state.encoder, [unit for _, unit in batch])
        with state.store.write() as transaction:
            ids = [exemplar_id for exemplar_id, _ in batch]
            replace_embeddings(transaction.connection, ids, vectors, state.encoder.model_id)


def _configured_encoder(settings: Settings) -> Encoder:
    """The configured model behind the embedding cache, or the test hook's encoder."""
    if settings.test_encoder is None:
        from service.runtime import build_encoder

        return build_encoder(settings)
    try:
        support = importlib.import_module("tests.support")
    except ImportError as error:
        raise ConfigurationError(
            "INTERCODER_TEST_ENCODER is a hook for intercoder's own test suite and needs its "
            "source checkout (the tests package); unset it to use the real model"
        ) from error
    contextual = settings.test_encoder == "hashing-context"
    test_encoder: Encoder = getattr(
        support, "ContextHashingEncoder" if contextual else "HashingEncoder"
    )()
    return CachedEncoder(test_encoder, EmbeddingCache(settings.embedding_cache_path))
