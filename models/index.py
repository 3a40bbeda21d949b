"""Nearest-exemplar search: L2-normalised embeddings of coded exemplars under the caller's ids.

``ExemplarIndex`` answers k-nearest-neighbour queries by inner product, which is cosine for the
unit vectors it accepts. It searches exactly (``IndexFlatIP``) while small and approximately
(``IndexHNSWFlat``) once large, both inside an ``IndexIDMap2`` so the caller's int64 ids (database
row ids) are stored with the vectors. Figures behind the defaults: eval/RESULTS.md (index sections),
reproduced by ``python -m eval.bench_index``.

Removal: the exact index deletes for real. HNSW cannot delete, so a removed exemplar stays in the
graph as a tombstone that searches skip (a label selector, so every query still gets its k best
live neighbours), and the graph is rebuilt from the stored vectors once tombstones pass 20% of it.

All methods take one re-entrant lock, so the web service may call them from several threads.
FAISS thread counts are left alone here; the process (or the benchmark) sets them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codebook.errors import InputError
from models.errors import IndexFileError, IndexMismatchError
from models.index_checks import (
    as_ids,
    as_new_ids,
    as_queries,
    as_vectors,
    check_k,
    check_same_length,
    check_settings,
)
from models.index_faiss import (
    HnswSearchParams,
    Kind,
    ids_by_label,
    kind_of,
    new_index,
    search_labels,
    vectors_at,
    vectors_by_label,
)
from models.index_store import (
    FORMAT_VERSION,
    check_loaded,
    check_model,
    inconsistent,
    read_faiss,
    read_record,
    save_index,
)

__all__ = [
    "APPROXIMATE_ABOVE",
    "EF_CONSTRUCTION",
    "EF_SEARCH",
    "HNSW_M",
    "ExemplarIndex",
    "IndexFileError",
    "IndexMetadata",
    "IndexMismatchError",
    "SearchResult",
]

# Exact one-query search (IndexFlatIP, d=384, one thread) takes ~1.8-2.3 ms p50 at 10k vectors
# and ~2.5-2.7 ms at 12.5k on the 2-core development machine (eval/RESULTS.md), growing
# linearly; HNSW at the defaults below is no slower at 10k and stays ~1-2 ms up to 1M.
APPROXIMATE_ABOVE = 10_000
# HNSW settings measured at 1M clustered 384-d vectors (eval/RESULTS.md): efConstruction
# 64 left a graph whose recall@10 stalled at 0.96 however large efSearch; 128 gives 0.998 at
# efSearch 128 with p50 ~1.2 ms, for a 1M build of ~10-20 min on 2 cores.
HNSW_M = 32
EF_CONSTRUCTION = 128
EF_SEARCH = 128
# Past this share of tombstones, HNSW searches wade through too many dead nodes: rebuild.
TOMBSTONE_REBUILD_SHARE = 0.2

RequestedKind = Literal["auto", "exact", "hnsw"]


@dataclass(frozen=True)
class IndexMetadata:
    """What an index was built from and holds; ``kind`` is the kind in use, never "auto"."""

    model_id: str
    codebook_version: str
    dim: int
    kind: Kind
    count: int
    format_version: int


@dataclass(frozen=True, eq=False)
class SearchResult:
    """Neighbours of each query, best first: (m, k) arrays, id -1 and score -inf as padding."""

    scores: npt.NDArray[np.float32]
    ids: npt.NDArray[np.int64]


class ExemplarIndex:
    """k-nearest exemplars by cosine over L2-normalised float32 vectors, keyed by int64 ids.

    ``kind="auto"`` searches exactly while the index holds at most ``approximate_above`` vectors
    and rebuilds once as HNSW when an ``add`` takes it past that; it stays HNSW afterwards even if
    removals shrink it (rebuilding back and forth around the threshold would cost more than it
    saves). ``"exact"`` and ``"hnsw"`` fix the kind. ``ef_search`` (the property) may be changed
    at any time; ``hnsw_m`` and ``ef_construction`` shape the graph and are fixed per index.

    Costs to plan for (2 cores, d=384; eval/RESULTS.md): the ``add`` that crosses the
    threshold builds the graph inside the call (12 s measured at 10k while other jobs loaded the
    cores; less when idle); later adds cost ~3 ms a vector. A tombstone rebuild runs inside
    ``remove`` and, like ``save`` (~10 s at 1M), holds the lock, so searches wait; at 1M a
    rebuild takes as long as the first build (10-20 min). Memory at 1M: ~1.7 GiB in FAISS
    (vectors and graph) plus ~120 bytes per exemplar of id bookkeeping in Python.
    """

    def __init__(
        self,
        dim: int,
        *,
        model_id: str,
        codebook_version: str,
        kind: RequestedKind = "auto",
        approximate_above: int = APPROXIMATE_ABOVE,
        hnsw_m: int = HNSW_M,
        ef_search: int = EF_SEARCH,
        ef_construction: int = EF_CONSTRUCTION,
    ) -> None:
        check_settings(dim, kind, approximate_above, hnsw_m, ef_search, ef_construction)
        self._dim = dim
        self._model_id = model_id
        self._codebook_version = codebook_version
        self._requested_kind: RequestedKind = kind
        self._approximate_above = approximate_above
        self._hnsw_m = hnsw_m
        self._ef_search = ef_search
        self._ef_construction = ef_construction
        self._lock = threading.RLock()
        self._faiss: Any = None
        self._kind: Kind = "exact"
        self._alive: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self._label_of_id: dict[int, int] = {}
        self._hnsw_params: HnswSearchParams | None = None
        self._ids_at_label_cache: npt.NDArray[np.int64] | None = None
        self._install(new_index(self._initial_kind(), dim, **self._graph_settings()))

    # ----- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        # No lock: reading a dict's size is atomic, and a count must not wait for a save or a
        # graph build (the service's project reads show it).
        return len(self._label_of_id)

    def contains(self, exemplar_id: int) -> bool:
        """Whether ``exemplar_id`` is in the index (removed ids are not)."""
        with self._lock:
            return int(exemplar_id) in self._label_of_id

    def ids(self) -> npt.NDArray[np.int64]:
        """Every id in the index, ascending."""
        with self._lock:
            found = np.fromiter(self._label_of_id, dtype=np.int64, count=len(self._label_of_id))
        return np.sort(found)

    def vectors_for(self, ids: object) -> npt.NDArray[np.float32]:
        """The stored vectors of ``ids``, one row per id in the order given."""
        wanted = as_ids(ids)
        with self._lock:
            missing = [value for value in wanted.tolist() if value not in self._label_of_id]
            if missing:
                raise InputError(
                    f"ids: expected ids in the index; found {len(missing)} absent, e.g. "
                    f"{missing[:5]}; fix: add those exemplars first"
                )
            labels = np.array([self._label_of_id[value] for value in wanted.tolist()], np.int64)
            return vectors_at(self._faiss, labels)

    @property
    def kind_in_use(self) -> Kind:
        with self._lock:
            return self._kind

    @property
    def tombstone_count(self) -> int:
        """Removed exemplars still in the HNSW graph, hidden from searches until a rebuild."""
        with self._lock:
            return int(self._faiss.ntotal) - len(self._label_of_id)

    @property
    def ef_search(self) -> int:
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"ef_search: expected a positive int; found {value!r}")
        with self._lock:
            self._ef_search = value
            self._hnsw_params = None

    @property
    def metadata(self) -> IndexMetadata:
        with self._lock:
            return IndexMetadata(
                model_id=self._model_id,
                codebook_version=self._codebook_version,
                dim=self._dim,
                kind=self._kind,
                count=len(self._label_of_id),
                format_version=FORMAT_VERSION,
            )

    def search(self, queries: object, k: int) -> SearchResult:
        """The ``k`` best exemplars of each query, best first; a (dim,) query counts as (1, dim).

        Always returns (m, k) arrays: missing neighbours are id -1 with score -inf.
        """
        k = check_k(k)
        matrix = as_queries(queries, self._dim)
        with self._lock:
            if not self._label_of_id:
                return _padding(len(matrix), k)
            scores, labels = search_labels(self._faiss, matrix, k, self._search_params())
            ids_at_label = self._ids_at_label()
        found = labels >= 0
        ids = np.where(found, ids_at_label[np.where(found, labels, 0)], -1).astype(np.int64)
        scores = np.where(found, scores, -np.inf).astype(np.float32)
        return SearchResult(scores=scores, ids=ids)

    # ----- changing ------------------------------------------------------------------------

    def add(self, ids: object, vectors: object) -> None:
        """Add exemplars; ids must be new. Raises InputError on bad shapes, values or ids."""
        matrix = as_vectors(vectors, self._dim)
        with self._lock:
            new_ids = as_new_ids(ids, self._label_of_id)
            check_same_length(new_ids, matrix)
            if not len(new_ids):
                return
            if self._kind == "exact" and self._outgrows_exact(len(new_ids)):
                self._rebuild("hnsw", new_ids, matrix)
                return
            first_label = int(self._faiss.ntotal)
            self._faiss.add_with_ids(matrix, new_ids)
            labels = range(first_label, first_label + len(new_ids))
            self._label_of_id.update(zip(new_ids.tolist(), labels, strict=True))
            self._alive = np.concatenate([self._alive, np.ones(len(new_ids), np.bool_)])
            self._forget_caches()

    def remove(self, ids: object) -> int:
        """Remove the given ids that are present; returns how many were removed."""
        unique = np.unique(as_ids(ids))
        with self._lock:
            present = [value for value in unique.tolist() if value in self._label_of_id]
            if not present:
                return 0
            if self._kind == "exact":
                self._faiss.remove_ids(np.array(present, dtype=np.int64))
                self._install(self._faiss)
                return len(present)
            for value in present:
                self._alive[self._label_of_id.pop(value)] = False
            self._forget_caches()
            if self.tombstone_count > TOMBSTONE_REBUILD_SHARE * self._faiss.ntotal:
                self._rebuild("hnsw")
            return len(present)

    # ----- saving --------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write ``index.faiss`` and ``index.json`` into ``directory``; see models.index_store."""
        with self._lock:
            record = {
                "format_version": FORMAT_VERSION,
                "model_id": self._model_id,
                "codebook_version": self._codebook_version,
                "dim": self._dim,
                "kind_in_use": self._kind,
                "count": len(self._label_of_id),
                "settings": {
                    "kind": self._requested_kind,
                    "approximate_above": self._approximate_above,
                    "ef_search": self._ef_search,
                    **self._graph_settings(),
                },
                "tombstone_labels": np.flatnonzero(~self._alive).tolist(),
            }
            save_index(Path(directory), self._faiss, record)

    @classmethod
    def load(
        cls, directory: Path, *, expected_model_id: str, expected_dim: int | None = None
    ) -> ExemplarIndex:
        """Load a saved index, refusing one built with another model or dimension.

        The codebook version is not checked: compare ``metadata.codebook_version`` yourself.
        """
        directory = Path(directory)
        record = read_record(directory)
        check_model(directory, record, expected_model_id, expected_dim)
        settings = record.settings
        index = cls(
            record.dim,
            model_id=record.model_id,
            codebook_version=record.codebook_version,
            kind=settings.kind,
            approximate_above=settings.approximate_above,
            hnsw_m=settings.hnsw_m,
            ef_search=settings.ef_search,
            ef_construction=settings.ef_construction,
        )
        loaded = read_faiss(directory, record)
        check_loaded(directory, record, loaded)
        index._install(loaded, tombstone_labels=record.tombstone_labels)
        if len(index) != record.count:
            raise inconsistent(directory, f"count {record.count} but {len(index)} live ids")
        return index

    # ----- internals -----------------------------------------------------------------------

    def _initial_kind(self) -> Kind:
        if self._requested_kind == "hnsw" or (
            self._requested_kind == "auto" and self._approximate_above == 0
        ):
            return "hnsw"
        return "exact"

    def _graph_settings(self) -> dict[str, int]:
        return {"hnsw_m": self._hnsw_m, "ef_construction": self._ef_construction}

    def _outgrows_exact(self, adding: int) -> bool:
        return (
            self._requested_kind == "auto"
            and len(self._label_of_id) + adding > self._approximate_above
        )

    def _install(self, faiss_index: Any, tombstone_labels: list[int] | None = None) -> None:
        """Adopt ``faiss_index`` and rebuild the id bookkeeping from its id map."""
        kind = kind_of(faiss_index)
        assert kind is not None, "only indexes built by models.index_faiss are installed"
        ids_at_label = ids_by_label(faiss_index)
        alive = np.ones(len(ids_at_label), dtype=np.bool_)
        alive[np.asarray(tombstone_labels or [], dtype=np.int64)] = False
        live_ids = ids_at_label[alive].tolist()
        label_of_id = dict(zip(live_ids, np.flatnonzero(alive).tolist(), strict=True))
        if len(label_of_id) != len(live_ids):
            raise IndexFileError("the FAISS id map holds a live id twice; rebuild the index")
        self._faiss = faiss_index
        self._kind = kind
        self._alive = alive
        self._label_of_id = label_of_id
        self._forget_caches()

    def _rebuild(
        self,
        kind: Kind,
        extra_ids: npt.NDArray[np.int64] | None = None,
        extra_vectors: npt.NDArray[np.float32] | None = None,
    ) -> None:
        """Build a fresh index of ``kind`` from the live vectors (plus any extra ones)."""
        ids = ids_by_label(self._faiss)[self._alive]
        vectors = vectors_by_label(self._faiss)[self._alive]
        if extra_ids is not None and extra_vectors is not None:
            ids = np.concatenate([ids, extra_ids])
            vectors = np.concatenate([vectors, extra_vectors])
        fresh = new_index(kind, self._dim, **self._graph_settings())
        if len(ids):
            fresh.add_with_ids(np.ascontiguousarray(vectors), ids)
        self._install(fresh)

    def _forget_caches(self) -> None:
        self._hnsw_params = None
        self._ids_at_label_cache = None

    def _search_params(self) -> HnswSearchParams | None:
        if self._kind == "exact":
            return None
        if self._hnsw_params is None:
            hidden = self._alive if not self._alive.all() else None
            self._hnsw_params = HnswSearchParams(self._ef_search, hidden)
        return self._hnsw_params

    def _ids_at_label(self) -> npt.NDArray[np.int64]:
        if self._ids_at_label_cache is None:
            self._ids_at_label_cache = ids_by_label(self._faiss)
        return self._ids_at_label_cache


def _padding(rows: int, k: int) -> SearchResult:
    return SearchResult(
        scores=np.full((rows, k), -np.inf, dtype=np.float32),
        ids=np.full((rows, k), -1, dtype=np.int64),
    )
