"""The real bundled model, its sha256 check, and the embedding cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import (
    BUNDLED_WEIGHTS_SHA256,
    Encoder,
    SentenceTransformerEncoder,
    bundled_model_dir,
    weights_sha256,
)
from models.errors import ModelIntegrityError
from models.testing import HashingEncoder


@pytest.fixture(scope="module")
def real_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


def test_bundled_model_gives_normalised_float32_embeddings(
    real_encoder: SentenceTransformerEncoder,
) -> None:
    assert isinstance(real_encoder, Encoder)
    assert real_encoder.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2@53aa5117")
    vectors = real_encoder.encode(["We retrain the model weekly.", "The cat sat on the mat."])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert real_encoder.encode([]).shape == (0, 384)


def test_real_model_puts_paraphrases_closer_than_unrelated_text(
    real_encoder: SentenceTransformerEncoder,
) -> None:
    anchor, paraphrase, unrelated = real_encoder.encode(
        [
            "An attacker could poison our training data.",
            "Someone might inject malicious samples into the data we train on.",
            "We had pasta for lunch yesterday.",
        ]
    )
    assert anchor @ paraphrase > anchor @ unrelated + 0.3


def test_bundled_weights_match_the_pinned_hash() -> None:
    assert weights_sha256(bundled_model_dir()) == BUNDLED_WEIGHTS_SHA256


def test_corrupted_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(bundled_model_dir(), copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        SentenceTransformerEncoder(copy, expected_sha256=BUNDLED_WEIGHTS_SHA256)


def test_missing_folder_and_missing_weights_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="does not exist"):
        SentenceTransformerEncoder(tmp_path / "nowhere")
    with pytest.raises(ModelIntegrityError, match="has no weights"):
        SentenceTransformerEncoder(tmp_path)


def test_cache_embeds_each_text_once_and_persists(tmp_path: Path) -> None:
    inner = HashingEncoder()
    cached = CachedEncoder(inner, EmbeddingCache(tmp_path / "cache.sqlite"))
    first = cached.encode(["alpha beta", "gamma", "alpha beta"])
    assert inner.calls == [["alpha beta", "gamma"]]
    second = cached.encode(["gamma", "delta"])
    assert inner.calls[-1] == ["delta"]
    np.testing.assert_array_equal(first[1], second[0])
    np.testing.assert_array_equal(first[0], first[2])
    cached.cache.close()

    reopened_inner = HashingEncoder()
    reopened = CachedEncoder(reopened_inner, EmbeddingCache(tmp_path / "cache.sqlite"))
    again = reopened.encode(["alpha beta", "gamma", "delta"])
    assert reopened_inner.calls == []
    np.testing.assert_array_equal(again[0], first[0])
    assert reopened.cache.count("test-hashing-encoder") == 3


def test_cache_keys_by_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    one = CachedEncoder(HashingEncoder(model_id="one"), cache)
    other_inner = HashingEncoder(dim=64, model_id="two")
    two = CachedEncoder(other_inner, cache)
    one.encode(["same text"])
    two.encode(["same text"])
    assert other_inner.calls == [["same text"]]
    assert cache.count() == 2
    assert cache.count("one") == 1
