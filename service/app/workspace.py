"""The workspace every use case works in: settings, store, encoder, indexes, engine, metrics.

Opened once per process (``service.app.lifecycle``): by the HTTP app's lifespan, which keeps
it in ``request.app.state``, or by the command line for the local store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from codebook.errors import InputError, Problem
from models.context import UnitContext, encode_units
from models.encoder import Embeddings
from models.index_checks import NORM_TOLERANCE
from service.app.encoder_worker import SerialEncoder
from service.metrics import Metrics
from service.settings import Settings
from service.store.database import Store
from service.store.exemplars import exemplar_ids, exemplar_vectors
from service.store.project_index import ProjectIndexes, StoredState
from service.store.projects import get_project

if TYPE_CHECKING:
    from service.app.engine import SuggestionEngine

logger = logging.getLogger("intercoder.service")


class BatchRunner:
    """One worker thread running the service's batch runs in turn (``service.app.batch_jobs``);
    ``stopping`` tells a running batch to stop after the part it is writing."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batches")
        self.stopping = threading.Event()

    def submit(self, job: Callable[[], None]) -> None:
        self._worker.submit(job)

    def close(self) -> None:
        """Stop after the part being written; unfinished batches resume at the next start."""
        self.stopping.set()
        self._worker.shutdown(wait=True, cancel_futures=True)


@dataclass
class Workspace:
    settings: Settings
    store: Store
    encoder: SerialEncoder
    indexes: ProjectIndexes
    engine: SuggestionEngine
    metrics: Metrics
    batches: BatchRunner = field(default_factory=BatchRunner)

    def open_project_index(self, project_id: str) -> None:
        """Load the project's saved index, or rebuild it from the database when out of step."""
        with self.store.writes_paused() as connection:
            project = get_project(connection, project_id)
            stored = StoredState(
                project.uid, project.change_counter, exemplar_ids(connection, project_id)
            )
            self.indexes.open(
                project_id,
                stored,
                lambda: exemplar_vectors(connection, project_id, self.encoder.dim),
            )
            self.metrics.set_exemplar_count(project_id, project.exemplar_count)

    def embed_units(self, units: Sequence[UnitContext]) -> Embeddings:
        """The units' embeddings, each read as the model reads units (a project model with its
        speaker and previous unit, see models.context), refusing any the index could not hold.

        The bundled model always gives unit vectors; a custom or test encoder may give a zero
        vector for a text it has no features for. Refused here, before anything is stored.
        """
        texts = [unit.text for unit in units]
        vectors = encode_units(self.encoder, units)
        norms = np.linalg.norm(vectors, axis=1)
        bad = np.flatnonzero(~np.isfinite(norms) | (np.abs(norms - 1.0) > NORM_TOLERANCE))
        if bad.size:
            raise InputError(
                f"{bad.size} text(s) get no usable embedding from model {self.encoder.model_id} "
                "(not a unit vector); rephrase them or leave them out",
                [Problem(f"text {row}", repr(texts[row][:80])) for row in bad[:20].tolist()],
            )
        return vectors

    def apply_exemplar_change(
        self,
        project_id: str,
        counter: int,
        *,
        add_ids: list[int] | None = None,
        add_vectors: Embeddings | None = None,
        remove_ids: list[int] | None = None,
    ) -> None:
        """Bring the in-memory index up to a committed change (call from ``after_commit``).

        Should that fail, the index is rebuilt from the database, which already has the change:
        the request succeeded and must not report otherwise.
        """
        try:
            ids = None if add_ids is None else np.asarray(add_ids, dtype=np.int64)
            self.indexes.get(project_id).apply(counter, ids, add_vectors, remove_ids)
        except Exception:
            logger.exception("index update failed for project %s; rebuilding it", project_id)
            self.open_project_index(project_id)
        self.metrics.set_exemplar_count(project_id, len(self.indexes.get(project_id).index))
