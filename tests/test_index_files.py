"""ExemplarIndex files: save and load round trips, refusals of other models and damaged files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from codebook.errors import InputError, IntercoderError
from models.index import ExemplarIndex, IndexFileError, IndexMismatchError
from tests.index_support import DIM, MODEL, filled, unit_vectors


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_save_load_round_trip_gives_identical_results(kind: str, tmp_path: Path) -> None:
    index, ids, _ = filled(kind, 300, seed=2, ef_search=40)
    index.remove(ids[:20])
    queries = unit_vectors(30, seed=9)
    index.save(tmp_path)
    loaded = ExemplarIndex.load(tmp_path, expected_model_id=MODEL, expected_dim=DIM)
    before, after = index.search(queries, 10), loaded.search(queries, 10)
    np.testing.assert_array_equal(after.ids, before.ids)
    np.testing.assert_array_equal(after.scores, before.scores)
    assert loaded.metadata == index.metadata
    assert loaded.ef_search == 40
    assert loaded.tombstone_count == index.tombstone_count
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.faiss", "index.json"]


def test_loading_with_another_model_is_refused(tmp_path: Path) -> None:
    filled("exact", 5)[0].save(tmp_path)
    with pytest.raises(IndexMismatchError) as caught:
        ExemplarIndex.load(tmp_path, expected_model_id="e5-small@ffff")
    message = str(caught.value)
    assert MODEL in message
    assert "e5-small@ffff" in message
    assert "rebuild the index with the current model" in message
    with pytest.raises(IndexMismatchError, match="16-dimensional"):
        ExemplarIndex.load(tmp_path, expected_model_id=MODEL, expected_dim=384)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("index.faiss", _truncate),
        ("index.faiss", _flip_a_byte),
        ("index.faiss", Path.unlink),
        ("index.json", _truncate),
        ("index.json", Path.unlink),
        ("index.json", lambda path: path.write_text('{"format_version": 1, "dim": "x"}')),
        ("index.json", lambda path: path.write_text('{"format_version": 99}')),
    ],
)
def test_damaged_files_are_refused_naming_the_file(
    tmp_path: Path, name: str, damage: object
) -> None:
    filled("hnsw", 50)[0].save(tmp_path)
    damage(tmp_path / name)  # type: ignore[operator]
    with pytest.raises(IndexFileError, match=name):
        ExemplarIndex.load(tmp_path, expected_model_id=MODEL)


def test_errors_belong_to_the_project_tree() -> None:
    assert issubclass(IndexMismatchError, IntercoderError)
    assert issubclass(IndexFileError, IntercoderError)
    assert not issubclass(IndexFileError, InputError)


@pytest.mark.parametrize("failing_rename", [1, 2, 3])
def test_a_crash_mid_save_leaves_the_previous_save_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_rename: int
) -> None:
    first, ids, vectors = filled("exact", 30)
    first.save(tmp_path)
    expected = first.search(vectors, 5).ids
    first.remove(ids[:10])
    renames = 0
    real_replace = os.replace

    def crashing_replace(source: object, target: object) -> None:
        nonlocal renames
        renames += 1
        if renames == failing_rename:  # 1: faiss aside, 2: new faiss in, 3: new json in
            raise OSError("simulated crash")
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(OSError, match="simulated crash"):
        first.save(tmp_path)
    monkeypatch.undo()

    loaded = ExemplarIndex.load(tmp_path, expected_model_id=MODEL)
    assert len(loaded) == 30
    np.testing.assert_array_equal(loaded.search(vectors, 5).ids, expected)
    first.save(tmp_path)  # the next save recovers and replaces it
    assert len(ExemplarIndex.load(tmp_path, expected_model_id=MODEL)) == 20
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.faiss", "index.json"]
