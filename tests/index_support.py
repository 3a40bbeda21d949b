"""Random unit vectors and filled ExemplarIndex objects, shared by the index test modules."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.index import ExemplarIndex

DIM = 16
MODEL = "minilm@abc123"

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


def unit_vectors(count: int, dim: int = DIM, seed: int = 0) -> Floats:
    vectors = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    norms: Floats = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / norms).astype(np.float32)


def make_index(kind: str = "exact", dim: int = DIM, **settings: int) -> ExemplarIndex:
    return ExemplarIndex(dim, model_id=MODEL, codebook_version="cb-1", kind=kind, **settings)  # type: ignore[arg-type]


def filled(
    kind: str, count: int, seed: int = 0, **settings: int
) -> tuple[ExemplarIndex, Ints, Floats]:
    ids = np.random.default_rng(seed).permutation(count * 10)[:count].astype(np.int64) + 100
    vectors = unit_vectors(count, seed=seed)
    index = make_index(kind, **settings)
    index.add(ids, vectors)
    return index, ids, vectors
