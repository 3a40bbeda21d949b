"""A persistent embedding cache keyed by (model id, text).

Re-coding a transcript and every fold of a cross-validation embed the same sentences again and
again; the encoder is by far the slowest step, so each text is embedded once per model and kept
in a small SQLite file.

The cache only saves time, so it never fails a caller: a vector it cannot store (a full disk)
is left out with a warning, a cache file that is not a database (or is corrupt) is set aside
and started afresh, and one that cannot be used for another reason (locked by another user,
read-only, a full disk) is left as it is and skipped: the caller's work goes on uncached.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path

import numpy as np

from models.encoder import Embeddings, Encoder, EncoderWrapper

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    text_sha256 BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, text_sha256)
) WITHOUT ROWID
"""
_LOOKUP_BATCH = 500  # stays under SQLite's limit on bound parameters
logger = logging.getLogger("intercoder.models.cache")


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Float32 vectors in SQLite, one row per (model id, sha256 of the text)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None
        try:
            self._connection = _open(self.path)
        except sqlite3.DatabaseError as error:
            if not _damaged(error):  # locked, read-only, full: the file is fine, maybe in use
                logger.warning(
                    "the embedding cache %s cannot be used now (%s); going on without it, "
                    "the file left as it is", self.path, error,
                )  # fmt: skip
                self._connection = None
                return
            aside = self.path.with_name(self.path.name + ".unreadable")
            logger.warning(
                "the embedding cache %s is unreadable (%s); set aside as %s, starting afresh",
                self.path, error, aside,
            )  # fmt: skip
            self.path.replace(aside)
            for journal in ("-wal", "-shm"):
                self.path.with_name(self.path.name + journal).unlink(missing_ok=True)
            self._connection = _open(self.path)

    def get_many(self, model_id: str, texts: list[str], dim: int) -> dict[str, Embeddings]:
        """The cached vectors among these texts, by text."""
        keys = {_text_key(text): text for text in set(texts)}
        found: dict[str, Embeddings] = {}
        key_list = list(keys)
        with self._lock:
            if self._connection is None:
                return found
            for start in range(0, len(key_list), _LOOKUP_BATCH):
                batch = key_list[start : start + _LOOKUP_BATCH]
                marks = ",".join("?" * len(batch))
                rows = self._connection.execute(
                    f"SELECT text_sha256, vector FROM embeddings "
                    f"WHERE model_id = ? AND text_sha256 IN ({marks})",
                    [model_id, *batch],
                ).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (dim,):
                        found[keys[key]] = vector
        return found

    def put_many(self, model_id: str, texts: list[str], vectors: Embeddings) -> None:
        rows = [
            (model_id, _text_key(text), np.ascontiguousarray(vector, np.float32).tobytes())
            for text, vector in zip(texts, vectors, strict=True)
        ]
        if self._connection is None:
            return
        try:
            with self._lock, self._connection:
                self._connection.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows
                )
        except sqlite3.Error as error:  # the vectors are only not cached: the caller has them
            logger.warning("could not cache %d embeddings: %s", len(rows), error)

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            if self._connection is None:
                return 0
            if model_id is None:
                row = self._connection.execute("SELECT COUNT(*) FROM embeddings").fetchone()
            else:
                row = self._connection.execute(
                    "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,)
                ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()


def _damaged(error: sqlite3.DatabaseError) -> bool:
    """SQLite's "file is not a database" or "database disk image is malformed"."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def _open(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)
        connection.commit()
    except sqlite3.Error:
        connection.close()
        raise
    return connection


class CachedEncoder(EncoderWrapper):
    """An :class:`Encoder` that embeds only the texts its cache has not seen for this model."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        # The cache is keyed by the full input, context included, so the wrapped encoder's
        # context_turns holds for the cached vectors too.
        super().__init__(encoder)
        self.cache = cache
        self.texts_encoded = 0  # how many texts actually reached the wrapped encoder

    def encode(self, texts: list[str]) -> Embeddings:
        known = self.cache.get_many(self.model_id, texts, self.dim)
        missing = list(dict.fromkeys(text for text in texts if text not in known))
        if missing:
            fresh = self.encoder.encode(missing)
            self.cache.put_many(self.model_id, missing, fresh)
            self.texts_encoded += len(missing)
            known.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[text] for text in texts]).astype(np.float32, copy=False)
