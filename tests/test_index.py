"""ExemplarIndex: exact and HNSW search against NumPy brute force, changes, bad inputs, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codebook.errors import InputError
from models.index import ExemplarIndex, IndexMetadata, SearchResult
from tests.index_support import DIM, MODEL, Floats, Ints, filled, make_index, unit_vectors


def clustered_vectors(count: int, dim: int, centres: int, seed: int) -> Floats:
    rng = np.random.default_rng(seed)
    middles = unit_vectors(centres, dim, seed=1000 + seed)
    noise = rng.standard_normal((count, dim)).astype(np.float32) / np.float32(np.sqrt(dim))
    vectors: Floats = middles[rng.integers(0, centres, count)] + noise
    norms: Floats = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / norms).astype(np.float32)


def brute_force(vectors: Floats, ids: Ints, queries: Floats, k: int) -> tuple[Floats, Ints]:
    """Top-k (scores, ids) by inner product, padded like ExemplarIndex pads."""
    scores = queries @ vectors.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top_scores = np.take_along_axis(scores, order, axis=1)
    top_ids = ids[order]
    missing = k - top_ids.shape[1]
    top_scores = np.pad(top_scores, ((0, 0), (0, missing)), constant_values=-np.inf)
    top_ids = np.pad(top_ids, ((0, 0), (0, missing)), constant_values=-1)
    return top_scores.astype(np.float32), top_ids.astype(np.int64)


def assert_matches_brute_force(
    index: ExemplarIndex, ids: Ints, vectors: Floats, queries: Floats, k: int
) -> None:
    expected_scores, expected_ids = brute_force(vectors, ids, queries, k)
    result = index.search(queries, k)
    assert result.ids.shape == result.scores.shape == (len(queries), k)
    assert result.ids.dtype == np.int64
    assert result.scores.dtype == np.float32
    np.testing.assert_array_equal(result.ids, expected_ids)
    np.testing.assert_allclose(result.scores, expected_scores, rtol=1e-5, atol=1e-5)


def recall(found: Ints, truth: Ints) -> float:
    hits = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, truth, strict=True))
    return hits / truth.size


# ----- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 7, 10, 11, 300])
def test_exact_search_equals_brute_force(count: int) -> None:
    index, ids, vectors = filled("exact", count, seed=count)
    queries = unit_vectors(25, seed=99)
    assert_matches_brute_force(index, ids, vectors, queries, k=10)


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=60),
    k=st.integers(min_value=1, max_value=20),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_exact_search_equals_brute_force_for_any_size_and_k(count: int, k: int, seed: int) -> None:
    index = make_index("exact", dim=8)
    ids = np.random.default_rng(seed).choice(10**12, size=count, replace=False).astype(np.int64)
    vectors = unit_vectors(count, dim=8, seed=seed)
    index.add(ids, vectors)
    assert_matches_brute_force(index, ids, vectors, unit_vectors(5, dim=8, seed=seed + 1), k)


def test_hnsw_reaches_recall_095_on_clustered_vectors() -> None:
    vectors = clustered_vectors(4_000, dim=64, centres=40, seed=3)
    queries = clustered_vectors(200, dim=64, centres=40, seed=4)
    ids = np.arange(len(vectors), dtype=np.int64) * 7
    index = make_index("hnsw", dim=64)
    index.add(ids, vectors)
    _, truth = brute_force(vectors, ids, queries, 10)
    found = index.search(queries, 10)
    assert index.kind_in_use == "hnsw"
    assert recall(found.ids, truth) >= 0.95
    # HNSW scores are the true inner products of the ids it returns.
    stored = dict(zip(ids.tolist(), vectors, strict=True))
    true_scores = [[stored[i] @ q for i in row] for row, q in zip(found.ids, queries, strict=True)]
    np.testing.assert_allclose(found.scores, true_scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_one_dimensional_query_still_gives_one_row_of_k(kind: str) -> None:
    index, ids, vectors = filled(kind, 3)
    result = index.search(vectors[0], 5)
    assert isinstance(result, SearchResult)
    assert result.ids.shape == result.scores.shape == (1, 5)
    assert result.ids[0, 0] == ids[0]
    np.testing.assert_array_equal(result.ids[0, 3:], [-1, -1])
    assert np.all(np.isneginf(result.scores[0, 3:]))


@pytest.mark.parametrize("kind", ["exact", "hnsw", "auto"])
def test_empty_index_returns_only_padding(kind: str) -> None:
    result = make_index(kind).search(unit_vectors(3), 4)
    np.testing.assert_array_equal(result.ids, np.full((3, 4), -1))
    assert np.all(np.isneginf(result.scores))


@pytest.mark.parametrize("k", [0, -3, True, 2.5])
def test_k_must_be_a_positive_int(k: object) -> None:
    index, _, vectors = filled("exact", 5)
    with pytest.raises(InputError, match="k: expected a positive number"):
        index.search(vectors, k)  # type: ignore[arg-type]


# ----- adding and removing --------------------------------------------------------------------


def test_exact_remove_drops_ids_from_results() -> None:
    index, ids, vectors = filled("exact", 50)
    gone = ids[:10]
    assert index.remove(np.concatenate([gone, gone[:2], [1]])) == 10
    assert index.remove(gone) == 0
    assert len(index) == 40
    assert not any(index.contains(int(value)) for value in gone)
    assert index.contains(int(ids[10]))
    np.testing.assert_array_equal(index.ids(), np.sort(ids[10:]))
    assert_matches_brute_force(index, ids[10:], vectors[10:], vectors, k=10)


def test_hnsw_hides_tombstones_then_rebuilds_past_a_fifth() -> None:
    index, ids, vectors = filled("hnsw", 400, seed=5)
    assert index.remove(ids[:60]) == 60  # 15%: stays in the graph, hidden
    assert index.tombstone_count == 60
    result = index.search(vectors, 10)  # the removed vectors themselves are the hardest queries
    assert not np.isin(result.ids, ids[:60]).any()
    assert (result.ids >= 0).all(), "each query still gets k live neighbours"
    _, truth = brute_force(vectors[60:], ids[60:], vectors, 10)
    assert recall(result.ids, truth) >= 0.95

    assert index.remove(ids[60:90]) == 30  # 90 of 400 > 20%: rebuilt without them
    assert index.tombstone_count == 0
    assert len(index) == 310
    assert index.kind_in_use == "hnsw"
    np.testing.assert_allclose(index.vectors_for(ids[90:]), vectors[90:])
    assert not np.isin(index.search(vectors, 10).ids, ids[:90]).any()


def test_hnsw_re_adding_a_removed_id_serves_its_new_vector(tmp_path: Path) -> None:
    index, ids, vectors = filled("hnsw", 100, seed=6)
    replacement = unit_vectors(1, seed=77)
    index.remove(ids[:1])
    index.add(ids[:1], replacement)
    assert index.tombstone_count == 1
    np.testing.assert_allclose(index.vectors_for(ids[:1]), replacement)
    result = index.search(np.vstack([replacement, vectors[:1]]), 100)
    assert result.ids[0, 0] == ids[0]
    assert np.count_nonzero(result.ids[1] == ids[0]) == 1, "the old vector is hidden, not doubled"
    assert result.scores[1][result.ids[1] == ids[0]] == pytest.approx(replacement[0] @ vectors[0])
    index.save(tmp_path)
    loaded = ExemplarIndex.load(tmp_path, expected_model_id=MODEL)
    np.testing.assert_allclose(loaded.vectors_for(ids[:1]), replacement)
    assert loaded.tombstone_count == 1


def test_auto_switches_to_hnsw_once_past_the_threshold() -> None:
    index = make_index("auto", approximate_above=50)
    vectors = unit_vectors(80, seed=8)
    index.add(np.arange(40), vectors[:40])
    kinds = [index.kind_in_use]
    index.add(np.arange(40, 80), vectors[40:])
    kinds.append(index.kind_in_use)
    assert kinds == ["exact", "hnsw"]
    assert index.metadata.kind == "hnsw"
    np.testing.assert_array_equal(index.ids(), np.arange(80))
    np.testing.assert_array_equal(index.search(vectors, 1).ids[:, 0], np.arange(80))
    index.remove(np.arange(60))
    assert index.kind_in_use == "hnsw", "no switching back and forth around the threshold"


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_forced_kind_ignores_the_threshold(kind: str) -> None:
    index, _, _ = filled(kind, 30, approximate_above=10)
    assert index.kind_in_use == kind


def test_vectors_for_returns_stored_rows_in_the_order_asked() -> None:
    index, ids, vectors = filled("exact", 20)
    np.testing.assert_allclose(index.vectors_for(ids[[5, 2, 5]]), vectors[[5, 2, 5]])
    with pytest.raises(InputError, match="absent"):
        index.vectors_for([ids[0], 123_456_789])


def test_metadata_describes_the_index() -> None:
    index, _, _ = filled("exact", 12)
    assert index.metadata == IndexMetadata(
        model_id=MODEL, codebook_version="cb-1", dim=DIM, kind="exact", count=12, format_version=1
    )


# ----- bad inputs -----------------------------------------------------------------------------


def _nan_vectors() -> Floats:
    vectors = unit_vectors(3)
    vectors[1, 4] = np.nan
    return vectors


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        (np.arange(3), unit_vectors(3, dim=DIM + 1), r"shape \(n, 16\); found shape \(3, 17\)"),
        (np.arange(3), unit_vectors(3)[0], r"shape \(n, 16\)"),
        (np.arange(3), _nan_vectors(), "NaN or infinity in rows 1"),
        (np.arange(3), unit_vectors(3) * 2, "L2-normalised"),
        (np.array([4, 5, 4]), unit_vectors(3), "repeated ids 4"),
        (np.array([1, 2]), unit_vectors(3), "2 ids and 3 vectors"),
        (np.array([1, -1, 2]), unit_vectors(3), "non-negative ids; found -1"),
        (np.array([1.0, 2.0, 3.0]), unit_vectors(3), "integer exemplar ids"),
        (np.arange(3), np.array([["a"] * DIM] * 3), "convertible to float32"),
    ],
)
def test_bad_additions_are_refused_and_change_nothing(
    ids: object, vectors: object, message: str
) -> None:
    index, _, _ = filled("exact", 5)
    with pytest.raises(InputError, match=message):
        index.add(ids, vectors)
    assert len(index) == 5


def test_ids_already_present_are_refused() -> None:
    index, ids, _ = filled("exact", 5)
    with pytest.raises(InputError, match=rf"found {ids[2]} already present; fix: remove"):
        index.add(np.array([999_999, ids[2]]), unit_vectors(2, seed=3))
    assert not index.contains(999_999)


def test_queries_of_another_dimension_are_refused() -> None:
    index, _, _ = filled("exact", 5)
    with pytest.raises(InputError, match="queries: expected an array of shape"):
        index.search(unit_vectors(2, dim=DIM * 2), 3)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        make_index("fast")
    with pytest.raises(ValueError, match="hnsw_m"):
        make_index("hnsw", hnsw_m=1)


# ----- threads --------------------------------------------------------------------------------


def test_concurrent_searches_and_changes_stay_consistent() -> None:
    index, ids, vectors = filled("hnsw", 300, seed=4)
    errors: list[BaseException] = []
    missing_neighbours: list[int] = []
    stop = threading.Event()

    def search_until_stopped() -> None:  # collects what it finds; the test asserts
        try:
            while not stop.is_set():
                result = index.search(vectors[:20], 5)
                missing_neighbours.append(int((result.ids[:, 0] < 0).sum()))
        except BaseException as error:  # reported below
            errors.append(error)

    readers = [threading.Thread(target=search_until_stopped) for _ in range(3)]
    for reader in readers:
        reader.start()
    for round_ in range(30):
        batch = ids[round_ * 5 : round_ * 5 + 5]
        index.remove(batch)
        index.add(batch + 10**9, vectors[round_ * 5 : round_ * 5 + 5])
    stop.set()
    for reader in readers:
        reader.join()
    assert errors == []
    assert missing_neighbours
    assert set(missing_neighbours) == {0}
    assert len(index) == 300
    found = index.search(vectors[:150], 1).ids[:, 0]
    np.testing.assert_array_equal(found, ids[:150] + 10**9)
