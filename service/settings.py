"""The one typed Settings object, read from ``INTERCODER_*`` environment variables.

Built by :func:`get_settings`, cached, never at import time, so tests can set the environment
(or clear the cache) before anything reads it; ``intercoder --data-dir`` sets
``INTERCODER_DATA_DIR`` and clears the cache before its command runs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.encoder import EncoderBackend

PROJECT_DATA_DIR = Path("intercoder-data")
"""A data folder in the current folder makes it a project folder (see :func:`default_data_dir`)."""


def default_data_dir() -> Path:
    """``./intercoder-data`` when the current folder has one (as intercoder always used, so
    existing project folders keep working), else the per-user data folder (on Linux
    ``~/.local/share/intercoder``), so that commands run from anywhere find the same projects."""
    if PROJECT_DATA_DIR.is_dir():
        return PROJECT_DATA_DIR
    import platformdirs  # only when no folder is given: settings are built once per process

    return Path(platformdirs.user_data_dir("intercoder", appauthor=False))


class Settings(BaseSettings):
    """Where intercoder keeps its data, which model it uses, and how the service runs.

    The data folder is, first to last: ``INTERCODER_DATA_DIR`` (``intercoder --data-dir``);
    ``./intercoder-data`` if the current folder has one; the per-user data folder of
    ``platformdirs.user_data_dir("intercoder")``.
    """

    model_config = SettingsConfigDict(env_prefix="INTERCODER_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    """Projects, the SQLite store, indexes and the embedding cache live here."""

    model_path: Path | None = None
    """A local sentence-transformers folder; unset means the bundled all-MiniLM-L6-v2."""

    model_sha256: str | None = None
    """Expected sha256 of ``model_path``'s weights (the bundled model's is pinned in code)."""

    encode_batch_size: int = 64

    encoder_backend: EncoderBackend = "onnx"
    """torch (sentence-transformers), onnx (the same model on ONNX Runtime, exported once into
    ``onnx_dir``) or onnx-int8 (its int8 version); see README "Encoder backends". onnx is the
    default because it alone met all three targets of issue 16 (eval/RESULTS.md): the same
    vectors as torch, the same agreement, about 3x the sentences a second on a 2-core CPU."""

    # ----- the service (``intercoder serve``) ------------------------------------------------

    host: str = "127.0.0.1"
    """Address to bind. Anything but a loopback address requires API keys (see require_api_keys)."""

    port: int = Field(default=8000, ge=0, le=65535)

    require_api_keys: bool = False
    """Demand an API key on every /v1 request even on loopback; always on for other addresses."""

    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "::1"])
    """Host names a server WITHOUT keys answers (``host`` always): any other Host header gets
    400, so a site whose name is rebound to 127.0.0.1 (DNS rebinding) cannot use it. A JSON
    list in the environment: ``INTERCODER_ALLOWED_HOSTS='["localhost", "my-box"]'``. A server
    with keys answers any name (the key is the credential)."""

    cookie_secure: Literal["auto", "always", "never"] = "auto"
    """The review page's cookies are Secure: ``auto`` when the request came over TLS (as
    uvicorn sees it), ``always`` behind a TLS proxy that speaks plain HTTP to intercoder."""

    max_request_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Largest request body accepted (uploads included); larger ones get 413."""

    max_batch_sentences: int = Field(default=2_000, ge=1)
    """Most sentences suggested in one request; more get 422 (page through a transcript)."""

    max_batch_exemplars: int = Field(default=10_000, ge=1)
    """Most exemplars added in one request; more get 422."""

    micro_batching: bool = True
    """Embed concurrent requests' texts together in one model call (service.app.encoder_worker);
    false encodes each request alone, one after another (for comparisons)."""

    micro_batch_max_texts: int = Field(default=256, ge=1)
    """Most texts one model call embeds for several requests together (a larger request is
    still embedded whole, alone)."""

    max_active_requests: int = Field(default=16, ge=1)
    """Requests other than reads (suggestions, writes, evaluations) that run at once; more wait
    in the queue below, without holding a worker thread, so reads always find one."""

    max_queued_requests: int = Field(default=128, ge=0)
    """Requests other than reads that wait for a place among the active ones; beyond that the
    service is over capacity and answers 503 with Retry-After at once (service.api.admission)."""

    index_save_seconds: float = Field(default=30.0, gt=0)
    """How often changed project indexes are saved; the database is the truth in between."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"

    test_encoder: Literal["hashing", "hashing-context"] | None = None
    """TEST HOOK, never for real use: ``INTERCODER_TEST_ENCODER=hashing`` makes the service
    embed with the tiny deterministic encoder of ``models/testing.py`` so that a server started
    in a subprocess by the test suite needs no model; ``hashing-context`` is its variant that
    reads units with their context, as a project model does."""

    @property
    def embedding_cache_path(self) -> Path:
        return self.data_dir / "embeddings.sqlite"

    @property
    def onnx_dir(self) -> Path:
        """ONNX exports of the models, one folder per model and weights (models.onnx_export)."""
        return self.data_dir / "onnx"

    @property
    def database_path(self) -> Path:
        """The service's SQLite store: projects, exemplars, transcripts, decisions, keys."""
        return self.data_dir / "intercoder.sqlite3"

    @property
    def projects_dir(self) -> Path:
        """One folder per project, holding its saved exemplar index."""
        return self.data_dir / "projects"

    @property
    def batches_dir(self) -> Path:
        """One folder per project, holding its batch runs' results (``intercoder code``)."""
        return self.data_dir / "batches"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
