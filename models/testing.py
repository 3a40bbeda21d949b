"""A deterministic encoder for tests, shipped in the package so that a service started by
the test suite in a subprocess (``INTERCODER_TEST_ENCODER=hashing``) needs no model weights.

Never for real coding: it hashes words, so only texts sharing words come out similar.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from models.encoder import Embeddings, l2_normalise

_WORD = re.compile(r"[a-z']+")


class HashingEncoder:
    """A tiny deterministic bag-of-words encoder: texts sharing words get similar vectors.

    For tests where the real model is beside the point; the real-model tests live apart.
    """

    context_turns = 0

    def __init__(self, dim: int = 64, model_id: str = "test-hashing-encoder") -> None:
        self._dim = dim
        self._model_id = model_id
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> Embeddings:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            # A text without words ("0", "?!") is its own feature: like the real model, every
            # text gets a unit vector.
            for word in _WORD.findall(text.lower()) or [text]:
                digest = hashlib.sha256(word.encode("utf-8", "surrogatepass")).digest()
                vectors[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
        return l2_normalise(vectors)


class ContextHashingEncoder(HashingEncoder):
    """The hashing encoder posing as a project model: it reads each unit with its context
    (``context_turns = 1``), so tests can see "speaker: text [SEP] previous" reach it."""

    context_turns = 1

    def __init__(self, dim: int = 64, model_id: str = "test-context-hashing-encoder") -> None:
        super().__init__(dim, model_id)
