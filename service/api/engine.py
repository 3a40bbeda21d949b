"""Fitted suggesters per project, kept until the project's exemplars or codebook change.

A suggester is fitted on a snapshot of the project: its codebook, and its exemplars with the
vectors from the project's in-memory index (so a refit never re-reads or re-embeds anything).
The snapshot is taken while no write can commit, so the exemplars and vectors agree.

Accepted codings must count at once, so every change makes the next suggestion refit. A full fit
calibrates per-code thresholds by cross-validation, which takes seconds at 10,000 exemplars;
so once a project is past :data:`CALIBRATE_ALWAYS_BELOW` exemplars, a refit after a small change
(under :data:`RECALIBRATE_AFTER_SHARE` of the exemplars since the last calibration) keeps the
calibrated thresholds and only rebuilds the scorer and evidence index (~0.1 s at 10,000). The
new exemplars vote and show as evidence immediately; thresholds catch up at the next full fit.

Some refits are slow: the linear head (and the blend, which contains it) fits a logistic
regression per code, seconds for a 75-code codebook at a few hundred exemplars and about a
minute at 10,000 (``eval/bench_fit.py``). So when a method's previous fit took longer than
``background_fit_seconds``, a change no longer makes the request wait: the suggestion is
answered from the previous fit, marked ``refitting``, while one refit per project and method
runs in a background thread and replaces it when done. Scores and evidence of an answer always
come from the same fit, so the evidence shown is still what the scorer learned from. Quick
refits (k-NN, small codebooks), a first fit and a codebook change stay synchronous.

A project without exemplars gets the cold start: the prototype method fitted on its codebook's
definitions and examples, whatever method was asked for. Evidence from the codebook carries
negative exemplar ids, so a coder can tell it from a human coding.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codebook.model import Codebook
from models.calibration import NEVER
from models.encoder import Encoder
from models.exemplars import Exemplars, codebook_exemplars, with_codebook_fallback
from models.suggesters import BaseSuggester, make_suggester
from service.project_index import ProjectIndexes
from service.store import Store
from service.store_exemplars import all_exemplars
from service.store_projects import current_codebook, current_codebook_version, get_project

CALIBRATE_ALWAYS_BELOW = 2_000
RECALIBRATE_AFTER_SHARE = 0.1
_FITS_KEPT_PER_PROJECT = 4
_USES_K = frozenset({"knn", "blend"})
_log = logging.getLogger("intercoder.service.engine")


@dataclass(frozen=True)
class Fitted:
    """A fitted suggester and the project state it was fitted on."""

    suggester: BaseSuggester
    change_counter: int
    codebook_version: str
    exemplar_count: int
    calibrated_count: int
    """Exemplars at the last full calibration, to tell when thresholds are due again."""
    cold_start: bool
    seconds: float = 0.0
    """How long this fit took; a longer one than ``background_fit_seconds`` refits in the
    background next time."""
    refitting: bool = False
    """A newer fit is running in the background; this one answers meanwhile."""


@dataclass(frozen=True)
class _Snapshot:
    codebook: Codebook
    change_counter: int
    exemplars: Exemplars | None


class SuggestionEngine:
    """Hands out fitted suggesters; fits at most one at a time per project."""

    def __init__(
        self,
        store: Store,
        indexes: ProjectIndexes,
        encoder: Encoder,
        *,
        background_fit_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.indexes = indexes
        self.encoder = encoder
        self.background_fit_seconds = background_fit_seconds
        self._fits: dict[str, dict[tuple[str, int], Fitted]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._refits: dict[tuple[str, str, int], threading.Thread] = {}
        self._guard = threading.Lock()

    def fitted(self, project_id: str, method: str, k: int) -> Fitted:
        """The suggester for this method and k, fitted on the project as it is now, or, when
        its last fit was slow, that fit while the new one runs in the background."""
        key = (method, k if method in _USES_K else 0)
        with self._project_lock(project_id):
            cached = self._fits.get(project_id, {}).get(key)
            if cached is not None and self._codebook_version(project_id) == cached.codebook_version:
                live = self.indexes.get(project_id)
                if live.counter == cached.change_counter:
                    return cached
                # The running refit will bring this change too (or the next one will): no need
                # to read the whole project again, with writes paused, on every request.
                if self._refit_running(project_id, key) and len(live.index):
                    return dataclasses.replace(cached, refitting=True)
            snapshot = self._snapshot(project_id)
            if self._fits_in_background(cached, snapshot):
                assert cached is not None
                self._start_refit(project_id, key, snapshot, cached)
                return dataclasses.replace(cached, refitting=True)
            fitted = self._fit(snapshot, method, k, cached)
            self._keep(project_id, key, fitted)
            return fitted

    def forget(self, project_id: str) -> None:
        with self._guard:
            self._fits.pop(project_id, None)
            self._locks.pop(project_id, None)

    # ----- internals -----------------------------------------------------------------------

    def _keep(self, project_id: str, key: tuple[str, int], fitted: Fitted) -> None:
        kept = self._fits.setdefault(project_id, {})
        kept[key] = fitted
        while len(kept) > _FITS_KEPT_PER_PROJECT:
            kept.pop(next(iter(kept)))

    def _fits_in_background(self, cached: Fitted | None, snapshot: _Snapshot) -> bool:
        return (
            cached is not None
            and not cached.cold_start
            and snapshot.exemplars is not None
            and cached.codebook_version == snapshot.codebook.version
            and cached.seconds > self.background_fit_seconds
        )

    def _start_refit(
        self, project_id: str, key: tuple[str, int], snapshot: _Snapshot, previous: Fitted
    ) -> None:
        """One background refit per project and method; a later change waits for the next."""
        name = (project_id, *key)
        with self._guard:
            if name in self._refits:
                return
            thread = threading.Thread(
                target=self._refit,
                args=(project_id, key, snapshot, previous),
                name=f"refit-{project_id}-{key[0]}",
                daemon=True,
            )
            self._refits[name] = thread
        thread.start()

    def _refit(
        self, project_id: str, key: tuple[str, int], snapshot: _Snapshot, previous: Fitted
    ) -> None:
        try:
            fitted = self._fit(snapshot, key[0], key[1], previous)
            _log.info(
                "background refit of project %s (%s) on %d exemplars took %.1f s",
                project_id,
                key[0],
                fitted.exemplar_count,
                fitted.seconds,
            )
        except Exception:
            _log.exception("background refit of project %s (%s) failed", project_id, key[0])
            fitted = None
        with self._project_lock(project_id):
            kept = self._fits.get(project_id)
            current = None if kept is None else kept.get(key)
            # A project forgotten meanwhile stays forgotten; a newer synchronous fit stays.
            if (
                fitted is not None
                and current is not None
                and current.change_counter < fitted.change_counter
            ):
                self._keep(project_id, key, fitted)
        with self._guard:
            self._refits.pop((project_id, *key), None)

    def _project_lock(self, project_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(project_id, threading.Lock())

    def _codebook_version(self, project_id: str) -> str:
        with self.store.read() as connection:
            return current_codebook_version(connection, project_id)

    def _refit_running(self, project_id: str, key: tuple[str, int]) -> bool:
        with self._guard:
            return (project_id, *key) in self._refits

    def _snapshot(self, project_id: str) -> _Snapshot:
        with self.store.writes_paused() as connection:
            project = get_project(connection, project_id)
            codebook = current_codebook(connection, project_id)
            rows = all_exemplars(connection, project_id)
            if not rows:
                return _Snapshot(codebook, project.change_counter, None)
            ids = np.array([row.id for row in rows], dtype=np.int64)
            vectors = self.indexes.get(project_id).index.vectors_for(ids)
        exemplars = Exemplars(
            model_id=self.encoder.model_id,
            vectors=vectors,
            codes=tuple(frozenset(row.codes) for row in rows),
            texts=tuple(row.text for row in rows),
            ids=ids,
            groups=tuple(row.group for row in rows),
        )
        return _Snapshot(codebook, project.change_counter, exemplars)

    def _fit(self, snapshot: _Snapshot, method: str, k: int, previous: Fitted | None) -> Fitted:
        started = time.perf_counter()
        fitted = self._fit_now(snapshot, method, k, previous)
        return dataclasses.replace(fitted, seconds=time.perf_counter() - started)

    def _fit_now(self, snapshot: _Snapshot, method: str, k: int, previous: Fitted | None) -> Fitted:
        codebook = snapshot.codebook
        if snapshot.exemplars is None:
            cold = make_suggester("prototype").fit(self._codebook_texts(codebook), codebook)
            return Fitted(cold, snapshot.change_counter, codebook.version, 0, 0, cold_start=True)
        exemplars = snapshot.exemplars
        if method == "prototype":
            exemplars = with_codebook_fallback(
                exemplars, codebook_exemplars(codebook, self.encoder)
            )
        params: dict[str, object] = {"k": k} if method in _USES_K else {}
        count = len(snapshot.exemplars)
        if _thresholds_still_good(previous, codebook, count):
            assert previous is not None
            suggester = make_suggester(method, calibration_folds=1, **params)
            suggester.fit(exemplars, codebook)
            suggester.thresholds_ = _carried_thresholds(
                previous.suggester.thresholds_, suggester.thresholds_
            )
            calibrated = previous.calibrated_count
        else:
            suggester = make_suggester(method, **params).fit(exemplars, codebook)
            calibrated = count
        return Fitted(
            suggester, snapshot.change_counter, codebook.version, count, calibrated, False
        )

    def _codebook_texts(self, codebook: Codebook) -> Exemplars:
        """The codebook's definitions and examples as exemplars, under negative ids."""
        from_codebook = codebook_exemplars(codebook, self.encoder)
        return dataclasses.replace(from_codebook, ids=-1 - from_codebook.ids)


def configured(
    fitted: Fitted,
    *,
    threshold: float | None,
    abstain_below: float,
    top: int,
    evidence: int,
) -> BaseSuggester:
    """A per-request copy with the request's options; the shared fitted one stays untouched.

    A shallow copy: the fitted scorer and evidence index are shared (their searches lock), only
    the options and, with a threshold override, the thresholds are the copy's own.
    """
    suggester = copy.copy(fitted.suggester)
    suggester.abstain_below = abstain_below
    suggester.top_n = top
    suggester.n_evidence = evidence
    if threshold is not None:
        learned = fitted.suggester.thresholds_
        # A code no exemplar carries keeps NEVER: its score is 0 and a threshold of 0 would
        # suggest it for every sentence.
        suggester.thresholds_ = np.where(learned >= NEVER, NEVER, threshold)
    return suggester


def _thresholds_still_good(previous: Fitted | None, codebook: Codebook, count: int) -> bool:
    if previous is None or previous.cold_start or previous.codebook_version != codebook.version:
        return False
    if count < CALIBRATE_ALWAYS_BELOW:
        return False
    return abs(count - previous.calibrated_count) <= RECALIBRATE_AFTER_SHARE * max(
        previous.calibrated_count, 1
    )


def _carried_thresholds(
    calibrated: npt.NDArray[np.float64], fresh: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Calibrated thresholds, except where a code gained its first exemplar or lost its last
    one since (the fresh fit's default, or NEVER)."""
    changed = (calibrated >= NEVER) | (fresh >= NEVER)
    return np.where(changed, fresh, calibrated)
