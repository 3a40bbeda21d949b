"""Building the expensive objects (encoder with its cache) from Settings, once per process."""

from __future__ import annotations

from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import Encoder, SentenceTransformerEncoder
from service.settings import Settings, get_settings


def build_encoder(settings: Settings | None = None) -> Encoder:
    """The configured model (bundled MiniLM by default) behind the on-disk embedding cache."""
    settings = settings or get_settings()
    encoder = SentenceTransformerEncoder(
        settings.model_path,
        expected_sha256=settings.model_sha256,
        batch_size=settings.encode_batch_size,
    )
    return CachedEncoder(encoder, EmbeddingCache(settings.embedding_cache_path))
