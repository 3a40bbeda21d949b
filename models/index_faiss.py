"""The FAISS structures behind the exemplar index: building them, searching them, reading back.

Both kinds are an ``IndexIDMap2`` (so the caller's ids travel inside ``index.faiss``) around an
inner index whose positions ("labels") run 0..ntotal-1 in insertion order. Searches go to the
inner index and map labels to ids here, because HNSW cannot delete: removed labels stay in the
graph as tombstones and a label-based selector hides them, even when an id is removed and
added again (its old label stays dead, its new label is live).
"""

from __future__ import annotations

from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

Kind = Literal["exact", "hnsw"]

# faiss ships partial type stubs that lack SearchParametersHNSW, which it has at runtime.
_FAISS: Any = faiss


def new_index(kind: Kind, dim: int, *, hnsw_m: int, ef_construction: int) -> Any:
    """An empty ``IndexIDMap2`` around a flat or an HNSW inner-product index."""
    inner: Any
    if kind == "exact":
        inner = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = ef_construction
    return faiss.IndexIDMap2(inner)


def inner_of(index: Any) -> Any:
    """The concrete inner index of an ``IndexIDMap2`` (flat or HNSW), for direct searches."""
    return faiss.downcast_index(index.index)


def kind_of(index: Any) -> Kind | None:
    """Which kind a loaded FAISS index is, or None when it is not one this module builds."""
    if not isinstance(index, faiss.IndexIDMap2):
        return None
    inner = inner_of(index)
    if inner.metric_type != faiss.METRIC_INNER_PRODUCT:
        return None
    if isinstance(inner, faiss.IndexFlat):
        return "exact"
    if isinstance(inner, faiss.IndexHNSWFlat):
        return "hnsw"
    return None


def ids_by_label(index: Any) -> npt.NDArray[np.int64]:
    """The caller's id at each label, tombstoned labels included."""
    return faiss.vector_to_array(index.id_map).astype(np.int64, copy=False)


def vectors_by_label(index: Any) -> npt.NDArray[np.float32]:
    """Every stored vector in label order; HNSW keeps them in its flat storage."""
    inner = inner_of(index)
    if inner.ntotal == 0:
        return np.zeros((0, inner.d), dtype=np.float32)
    return np.asarray(inner.reconstruct_n(0, inner.ntotal), dtype=np.float32)


def vectors_at(index: Any, labels: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """The stored vectors at ``labels``."""
    inner = inner_of(index)
    if labels.size == 0:
        return np.zeros((0, inner.d), dtype=np.float32)
    return np.asarray(inner.reconstruct_batch(labels), dtype=np.float32)


class HnswSearchParams:
    """efSearch, plus a selector letting only live labels into results when there are tombstones.

    FAISS reads the bitmap through a raw pointer, so this object keeps the bitmap, the selector
    and the parameters alive together for as long as a search may use them.
    """

    def __init__(self, ef_search: int, alive: npt.NDArray[np.bool_] | None) -> None:
        self.params = _FAISS.SearchParametersHNSW()
        self.params.efSearch = ef_search
        self._bitmap: npt.NDArray[np.uint8] | None = None
        self._selector: Any = None
        if alive is not None:
            self._bitmap = np.packbits(alive, bitorder="little")
            self._selector = faiss.IDSelectorBitmap(len(alive), faiss.swig_ptr(self._bitmap))
            self.params.sel = self._selector


def search_labels(
    index: Any, queries: npt.NDArray[np.float32], k: int, hnsw: HnswSearchParams | None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Top-k (scores, labels) from the inner index; label -1 where fewer than k qualify."""
    inner = inner_of(index)
    if hnsw is None:
        scores, labels = inner.search(queries, k)
    else:
        scores, labels = inner.search(queries, k, params=hnsw.params)
    return np.asarray(scores, dtype=np.float32), np.asarray(labels, dtype=np.int64)
