"""One index per project, searched once per batch: a head fitted on the project's own index
finds the same neighbours as NumPy's brute force over its exemplars, ignores exemplars the
index holds that it was not fitted on, and suggests as a head with an index of its own."""

from __future__ import annotations

import numpy as np
import pytest

from codebook.loader import parse_codebook_yaml
from models.exemplars import Exemplars
from models.index import ExemplarIndex
from models.suggesters import make_suggester
from models.suggesters.search import ExemplarSearch

DIM = 16
BOOK = parse_codebook_yaml(
    "name: t\ncodes:\n" + "".join(f"  - {{id: c{i}, name: code {i}}}\n" for i in range(4))
)


def _unit_vectors(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _exemplars(count: int = 60, seed: int = 0) -> Exemplars:
    rng = np.random.default_rng(seed)
    codes = tuple(
        frozenset({f"c{rng.integers(4)}"}) if i % 5 else frozenset() for i in range(count)
    )
    return Exemplars(
        model_id="m",
        vectors=_unit_vectors(count, seed),
        codes=codes,
        texts=tuple(f"t{i}" for i in range(count)),
        ids=rng.permutation(np.arange(100, 100 + count)).astype(np.int64),  # not positions
        groups=tuple(f"g{i % 6}" for i in range(count)),
    )


def _project_index(exemplars: Exemplars, extra: int) -> ExemplarIndex:
    """The project's index: these exemplars, plus ``extra`` added after the head's fit."""
    index = ExemplarIndex(DIM, model_id="m", codebook_version="", kind="exact")
    index.add(exemplars.ids, exemplars.vectors)
    if extra:
        index.add(np.arange(1, extra + 1, dtype=np.int64), _unit_vectors(extra, 99))
    return index


@pytest.mark.parametrize("extra", [0, 5, 40])
def test_a_shared_index_finds_numpys_nearest_among_the_heads_exemplars(extra: int) -> None:
    exemplars = _exemplars()
    search = ExemplarSearch.shared(_project_index(exemplars, extra), exemplars)
    queries = _unit_vectors(7, 5)
    found = search.search(queries, 10)
    similarity = queries @ exemplars.vectors.T
    expected = np.argsort(-similarity, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(found.positions, expected)
    np.testing.assert_allclose(
        found.similarities, np.take_along_axis(similarity, expected, axis=1), atol=1e-5
    )


def test_more_neighbours_asked_than_exemplars_are_padded() -> None:
    exemplars = _exemplars(count=4)
    search = ExemplarSearch.shared(_project_index(exemplars, 3), exemplars)
    found = search.search(_unit_vectors(2, 5), 6)
    assert found.positions.shape == (2, 6)
    assert (found.positions[:, 4:] == -1).all()
    assert np.isneginf(found.similarities[:, 4:]).all()
    assert sorted(found.positions[0, :4].tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize("method", ["knn", "linear", "blend"])
def test_a_head_on_the_shared_index_suggests_as_one_with_its_own(method: str) -> None:
    exemplars = _exemplars()
    shared = make_suggester(method).fit(exemplars, BOOK, index=_project_index(exemplars, 8))
    own = make_suggester(method).fit(exemplars, BOOK)
    queries = _unit_vectors(5, 7)
    texts = [f"q{i}" for i in range(5)]
    assert shared.suggest(queries, texts, "m") == own.suggest(queries, texts, "m")


def test_exemplars_removed_and_many_added_since_the_fit_still_give_k_known_neighbours() -> None:
    exemplars = _exemplars()
    index = _project_index(exemplars, 0)
    index.remove(exemplars.ids[:50])  # removed since the fit (recoded, say) ...
    query = exemplars.vectors[55:56]
    twins = query + 0.05 * _unit_vectors(50, 3)
    index.add(np.arange(1, 51, dtype=np.int64), twins / np.linalg.norm(twins, axis=1)[:, None])
    # ... and 50 added, all nearer the query than any exemplar the head knows but itself:
    # the first search (k + 16 deep) finds one known exemplar, so it must ask again.
    found = ExemplarSearch.shared(index, exemplars).search(query, 5)
    remaining = exemplars.vectors[50:]
    expected = np.argsort(-(query @ remaining.T), axis=1, kind="stable")[:, :5] + 50
    np.testing.assert_array_equal(found.positions, expected)
