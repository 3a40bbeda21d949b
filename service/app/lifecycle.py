"""Opening and closing the workspace: what every interface needs, built once per process.

Open: the store, refuse to run where API keys are required and none exists, load the encoder
(behind the embedding cache), re-embed exemplars stored by another model, open every project's
index (rebuilding any that is out of step with the database), and start the periodic index
saver. Close: save changed indexes and close the database. The HTTP app does this in its
lifespan; the command line does it with :func:`local_workspace`, without any web app.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from models.context import encode_units
from models.encoder import Encoder, resolve_model
from service.app.batch_jobs import remove_orphan_batch_folders, resume_unfinished_batches
from service.app.encoder_worker import SerialEncoder
from service.app.engine import SuggestionEngine
from service.app.keys import check_can_start
from service.app.runtime import build_encoder
from service.app.workspace import Workspace
from service.metrics import Metrics
from service.settings import Settings, get_settings
from service.store.database import Store
from service.store.exemplars import embedded_with_other_models, replace_embeddings
from service.store.project_index import ProjectIndexes
from service.store.projects import all_projects

logger = logging.getLogger("intercoder.service")
_REEMBED_BATCH = 256


@contextmanager
def local_workspace() -> Iterator[Workspace]:
    """The workspace over the local store (settings from INTERCODER_*), for the command line."""
    state, saver = open_workspace(get_settings(), None, Metrics())
    try:
        yield state
    finally:
        close_workspace(state, saver)


def check_startup(settings: Settings) -> None:
    """What keeps the service from starting, raised as one error before anything heavy loads
    (uvicorn would print a startup failure in the app's lifespan as a traceback): a database
    that cannot be opened, written or upgraded, missing API keys, a model folder that is
    missing or fails its sha256 check. A missing or unreadable index is no reason: the
    workspace rebuilds it from the database."""
    store = Store(settings.database_path)
    try:
        check_can_start(settings, store)
    finally:
        store.close()
    if settings.test_encoder is None:
        resolve_model(settings.model_path, settings.model_sha256)


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


def open_workspace(
    settings: Settings, encoder: Encoder | None, metrics: Metrics, *, run_batches: bool = False
) -> tuple[Workspace, IndexSaver]:
    """The workspace, ready; ``run_batches``: also resume the batch runs a stopped service
    left unfinished, and remove the results of projects deleted just before a crash (the
    service does; a command line borrowing the store does not)."""
    store = Store(settings.database_path)
    chosen: SerialEncoder | None = None
    try:
        check_can_start(settings, store)
        chosen = SerialEncoder(
            encoder or build_encoder(settings),
            micro_batching=settings.micro_batching,
            max_batch_texts=settings.micro_batch_max_texts,
            observe=lambda requests, _texts: metrics.encoder_batch_requests.observe(requests),
        )
        indexes = ProjectIndexes(settings.projects_dir, model_id=chosen.model_id, dim=chosen.dim)
        state = Workspace(
            settings=settings,
            store=store,
            encoder=chosen,
            indexes=indexes,
            engine=SuggestionEngine(store, indexes, chosen),
            metrics=metrics,
        )
        known = _open_projects(state)
    except BaseException:
        store.close()
        if chosen is not None:
            chosen.close()
        raise
    saver = IndexSaver(indexes, settings.index_save_seconds)
    saver.start()
    resumed = 0
    if run_batches:  # the service owns the batch folders; a command line leaves them alone
        remove_orphan_batch_folders(state, known)
        resumed = resume_unfinished_batches(state)
    if resumed:
        logger.info("resuming %d unfinished batch run(s)", resumed)
    logger.info(
        "service ready",
        extra={"model_id": chosen.model_id, "data_dir": str(settings.data_dir)},
    )
    return state, saver


def close_workspace(state: Workspace, saver: IndexSaver) -> None:
    state.batches.close()
    saver.stop()
    saved = state.indexes.save_changed()
    state.store.close()
    state.encoder.close()
    logger.info("service stopped", extra={"indexes_saved": saved})


def _open_projects(state: Workspace) -> set[str]:
    """Open every project's index; the ids of the projects."""
    with state.store.read() as connection:
        projects_now = all_projects(connection)
    for project in projects_now:
        _reembed_if_model_changed(state, project.id)
        state.open_project_index(project.id)
    known = {project.id for project in projects_now}
    state.indexes.remove_orphans(known)
    return known


def _reembed_if_model_changed(state: Workspace, project_id: str) -> None:
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
