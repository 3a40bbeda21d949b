"""Validation of what callers hand the exemplar index: ids, vectors, queries and k.

Every check raises ``InputError`` whose message says what was expected, what was found and how
to fix it, so the service can return it unchanged as a 4xx problem.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from codebook.errors import InputError

# Loose enough for float16 round trips, tight enough to catch vectors nobody normalised: the
# index scores by inner product, which is cosine only for unit vectors.
NORM_TOLERANCE = 1e-2

_SHOWN = 5


def _listed(values: Iterable[object]) -> str:
    items = list(values)
    shown = ", ".join(str(value) for value in items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def as_ids(ids: object, *, what: str = "ids") -> npt.NDArray[np.int64]:
    """Return ``ids`` as a 1-d int64 array of non-negative ids (a scalar becomes one id)."""
    array = np.asarray(ids)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InputError(
            f"{what}: expected a 1-d array of integer exemplar ids; found shape {array.shape}; "
            "fix: pass one id per exemplar"
        )
    if array.size and (array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer)):
        raise InputError(
            f"{what}: expected integer exemplar ids; found dtype {array.dtype}; "
            "fix: pass the database row ids as int64"
        )
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise InputError(f"{what}: expected ids that fit in int64; found {array.max()}")
    result = array.astype(np.int64, copy=False)
    negative = result[result < 0]
    if negative.size:
        # -1 pads search results, so a negative id could not be told apart from "no exemplar".
        raise InputError(
            f"{what}: expected non-negative ids; found {_listed(negative.tolist())}; "
            "fix: use the database row ids, which are never negative"
        )
    return result


def as_new_ids(ids: object, present: set[int] | dict[int, int]) -> npt.NDArray[np.int64]:
    """Return ids to add: valid, unique within the batch and not already in the index."""
    result = as_ids(ids)
    unique, counts = np.unique(result, return_counts=True)
    repeated = unique[counts > 1]
    if repeated.size:
        raise InputError(
            f"ids: expected each id once; found repeated ids {_listed(repeated.tolist())}; "
            "fix: add each exemplar once"
        )
    already = [value for value in result.tolist() if value in present]
    if already:
        raise InputError(
            f"ids: expected ids not yet in the index; found {_listed(already)} already present; "
            "fix: remove them first to replace their vectors"
        )
    return result


def as_vectors(vectors: object, dim: int, *, what: str = "vectors") -> npt.NDArray[np.float32]:
    """Return ``vectors`` as a C-contiguous (n, dim) float32 array of finite unit vectors."""
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[1] != dim:
        raise InputError(
            f"{what}: expected an array of shape (n, {dim}); found shape {array.shape}; "
            f"fix: embed with the model this index was built for ({dim} dimensions)"
        )
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise InputError(
            f"{what}: expected numbers convertible to float32; found dtype {array.dtype}"
        )
    result = np.ascontiguousarray(array, dtype=np.float32)
    bad_rows = np.flatnonzero(~np.isfinite(result).all(axis=1))
    if bad_rows.size:
        raise InputError(
            f"{what}: expected finite values; found NaN or infinity in rows "
            f"{_listed(bad_rows.tolist())}; fix: re-embed those sentences"
        )
    norms = np.linalg.norm(result, axis=1)
    off_rows = np.flatnonzero(np.abs(norms - 1.0) > NORM_TOLERANCE)
    if off_rows.size:
        raise InputError(
            f"{what}: expected L2-normalised vectors (norm 1 +/- {NORM_TOLERANCE}); found norm "
            f"{norms[off_rows[0]]:.4g} in row {off_rows[0]} ({off_rows.size} rows off); "
            "fix: encode with normalize_embeddings=True or divide by the row norms"
        )
    return result


def as_queries(queries: object, dim: int) -> npt.NDArray[np.float32]:
    """Return queries as (m, dim); a single (dim,) query becomes (1, dim)."""
    array = np.asarray(queries)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    return as_vectors(array, dim, what="queries")


def check_k(k: object) -> int:
    """Return ``k`` if it is a positive int."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise InputError(
            f"k: expected a positive number of neighbours; found {k!r}; fix: ask for k >= 1"
        )
    return int(k)


def check_same_length(ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> None:
    """Raise unless there is exactly one id per vector."""
    if len(ids) != len(vectors):
        raise InputError(
            f"ids and vectors: expected one id per vector; found {len(ids)} ids and "
            f"{len(vectors)} vectors; fix: pass arrays of the same length"
        )


def check_settings(
    dim: int, kind: str, approximate_above: int, hnsw_m: int, ef_search: int, ef_construction: int
) -> None:
    """Raise ValueError on constructor settings that cannot work (a programming error)."""
    if kind not in ("auto", "exact", "hnsw"):
        raise ValueError(f"kind: expected 'auto', 'exact' or 'hnsw'; found {kind!r}")
    minimums = {
        "dim": (dim, 1),
        "approximate_above": (approximate_above, 0),
        "hnsw_m": (hnsw_m, 2),
        "ef_search": (ef_search, 1),
        "ef_construction": (ef_construction, 1),
    }
    for name, (value, least) in minimums.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name}: expected an int >= {least}; found {value!r}")
