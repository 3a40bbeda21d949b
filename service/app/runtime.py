"""Building the expensive objects (encoder with its cache) from Settings, once per process.

The one place an encoder is built, for the service, the command line and the harness alike.
"""

from __future__ import annotations

from pathlib import Path

from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import Encoder, EncoderBackend, load_encoder
from models.testing import ContextHashingEncoder, HashingEncoder
from service.settings import Settings, get_settings


def build_encoder(
    settings: Settings | None = None,
    *,
    model_path: Path | None = None,
    backend: EncoderBackend | None = None,
    cached: bool = True,
) -> Encoder:
    """The configured model (bundled MiniLM by default) behind the on-disk embedding cache.

    ``model_path`` overrides the configured model with another local folder (a project model
    from ``intercoder train`` checks its card's hash; the configured ``model_sha256`` belongs to
    the configured model and is not applied to it). The cache is keyed by model id, so models
    share it safely; ``cached=False`` leaves it out (a batch run embeds each text once). The
    test hook (``INTERCODER_TEST_ENCODER``) replaces the configured model
    with the deterministic hashing encoder, never a model folder named explicitly.
    ``backend`` overrides the configured ``encoder_backend`` (the CLI's ``--backend``).
    """
    settings = settings or get_settings()
    encoder = _uncached_encoder(settings, model_path, backend)
    if not cached:
        return encoder
    return CachedEncoder(encoder, EmbeddingCache(settings.embedding_cache_path))


def _uncached_encoder(
    settings: Settings, model_path: Path | None, backend: EncoderBackend | None
) -> Encoder:
    if settings.test_encoder is not None and model_path is None:
        contextual = settings.test_encoder == "hashing-context"
        return ContextHashingEncoder() if contextual else HashingEncoder()
    chosen = settings.model_path if model_path is None else model_path
    return load_encoder(
        chosen,
        backend=settings.encoder_backend if backend is None else backend,
        expected_sha256=settings.model_sha256 if model_path is None else None,
        batch_size=settings.encode_batch_size,
        cache_dir=settings.onnx_dir,
    )
