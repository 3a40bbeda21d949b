"""Each project's coders, kept fitted on the project as it is now.

A coder (:class:`models.project_coder.ProjectCoder`) is fitted on a snapshot of the project:
its codebook, and its exemplars with the vectors from the project's in-memory index (so a
refit never re-reads or re-embeds anything). The snapshot is taken while no write can commit,
so the exemplars and vectors agree.

Every change to the exemplars (an accepted, rejected or recoded suggestion, an upload, a
delete) counts at the next suggestion: the coder learns from it before answering. How it
learns is the coder's business (``ProjectCoder.learn``): the head is updated with its
calibrated thresholds kept, and recalibrated in full after a larger drift. The new coder
replaces the old one; requests already holding the old one finish with it undisturbed.

The heads search the project's own index (persisted beside the store, loaded once, updated in
place by each committed change) once per batch of sentences, for their neighbours and evidence
(the k-NN vote's own exact index still serves its calibration folds; the prototype, whose
fallback adds the codebook's texts, keeps an index of its own).

The project's lock is held through a fit: a project's first fit, or a full recalibration
(seconds on a large project), makes that project's other suggestions wait for it; updates
after a decision take a fraction of a second. Learning is shared: a request needs a coder that
knows every change committed before it arrived, so the requests that waited for the lock while
one learned take that coder if it covers them, instead of each learning again from the changes
committed meanwhile (under a steady stream of writes they would otherwise queue behind one
learn each).

A project without exemplars gets the cold start (the prototype head over its codebook's
definitions and examples), whatever method was asked for.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass

from codebook.model import Codebook
from models.encoder import Encoder
from models.exemplars import Exemplars
from models.methods import USES_K
from models.project_coder import ProjectCoder
from service.store.database import Store
from service.store.exemplars import coded_snapshot
from service.store.project_index import ProjectIndexes
from service.store.projects import current_codebook, current_codebook_version, get_project

_CODERS_KEPT_PER_PROJECT = 4
_log = logging.getLogger("intercoder.service.engine")


@dataclass(frozen=True)
class _Kept:
    coder: ProjectCoder
    change_counter: int
    uid: str
    """The project incarnation: a deleted project's coder never serves a namesake."""

    def covers(self, wanted: _Wanted) -> bool:
        return (
            self.uid == wanted.uid
            and self.change_counter >= wanted.change_counter
            and self.coder.state.codebook_version == wanted.codebook_version
        )


@dataclass(frozen=True)
class _Wanted:
    """The project as a request found it on arrival: the coder that answers it must know at
    least these changes (changes committed while it waited may count or not, as with any two
    concurrent requests)."""

    uid: str
    change_counter: int
    codebook_version: str


@dataclass(frozen=True)
class _Snapshot:
    codebook: Codebook
    change_counter: int
    exemplars: Exemplars | None


class SuggestionEngine:
    """Hands out fitted coders; fits or updates at most one at a time per project."""

    def __init__(self, store: Store, indexes: ProjectIndexes, encoder: Encoder) -> None:
        self.store = store
        self.indexes = indexes
        self.encoder = encoder
        self._coders: dict[str, dict[tuple[str, int], _Kept]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def coder(self, project_id: str, method: str, k: int) -> ProjectCoder:
        """The project's coder for this method (and k), up to date with every committed
        change. The caller only reads it: a later change makes a new one."""
        key = (method, k if method in USES_K else 0)
        wanted = self._now(project_id)
        with self._project_lock(project_id):
            with self._guard:
                kept = self._coders.get(project_id, {}).get(key)
            if kept is not None and kept.covers(wanted):
                return kept.coder
            snapshot = self._snapshot(project_id)
            live = self.indexes.get(project_id)
            # The project's own index, loaded once and kept in step with the store: the heads
            # that search for neighbours search it instead of building one to search.
            index = live.index
            started = time.perf_counter()
            if kept is None:
                coder = ProjectCoder(self.encoder, method, k=k)
                coder.fit(snapshot.exemplars, snapshot.codebook, index=index)
            else:
                # A copy learns, so requests holding the previous coder are not disturbed.
                coder = copy.copy(kept.coder).learn(
                    snapshot.exemplars, snapshot.codebook, index=index
                )
            _log.debug(
                "project %s (%s): coder ready in %.3f s",
                project_id,
                method,
                time.perf_counter() - started,
            )
            self._keep(project_id, key, _Kept(coder, snapshot.change_counter, live.uid))
            return coder

    def snapshot(self, project_id: str) -> tuple[Codebook, Exemplars | None]:
        """The project's codebook and embedded exemplars as they are now (None: none coded),
        for a coder built elsewhere (a batch run, which may rebuild it in other processes)."""
        with self._project_lock(project_id):
            snapshot = self._snapshot(project_id)
        return snapshot.codebook, snapshot.exemplars

    def forget(self, project_id: str) -> None:
        """Drop a deleted project's coders. Its lock stays: a fit still running under it
        must not race a fit of a namesake created meanwhile."""
        with self._guard:
            self._coders.pop(project_id, None)

    # ----- internals -----------------------------------------------------------------------

    def _now(self, project_id: str) -> _Wanted:
        """What a coder must have learned to answer a request arriving now."""
        live = self.indexes.get(project_id)
        uid, counter = live.uid, live.counter
        with self.store.read() as connection:
            version = current_codebook_version(connection, project_id)
        return _Wanted(uid, counter, version)

    def _keep(self, project_id: str, key: tuple[str, int], kept: _Kept) -> None:
        with self._guard:
            coders = self._coders.setdefault(project_id, {})
            coders[key] = kept
            while len(coders) > _CODERS_KEPT_PER_PROJECT:
                coders.pop(next(iter(coders)))

    def _project_lock(self, project_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(project_id, threading.Lock())

    def _snapshot(self, project_id: str) -> _Snapshot:
        with self.store.writes_paused() as connection:
            project = get_project(connection, project_id)
            codebook = current_codebook(connection, project_id)
            coded = coded_snapshot(connection, project_id)
            if not len(coded.ids):
                return _Snapshot(codebook, project.change_counter, None)
            vectors = self.indexes.get(project_id).index.vectors_for(coded.ids)
        exemplars = Exemplars(
            model_id=self.encoder.model_id,
            vectors=vectors,
            codes=coded.codes,
            texts=coded.texts,
            ids=coded.ids,
            groups=coded.groups,
        )
        return _Snapshot(codebook, project.change_counter, exemplars)
