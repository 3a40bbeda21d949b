"""The sentence encoder on ONNX Runtime: the same model and pooling as sentence-transformers.

The folder's transformer is exported to ONNX once (:mod:`models.onnx_export`), optionally in
int8, and run here with mean pooling over the attention mask and L2 normalisation, which is
what sentence-transformers does for all-MiniLM-L6-v2 (its modules.json: Transformer, mean
Pooling, Normalize). The texts are tokenised with the folder's own fast tokenizer, truncated at
its ``max_seq_length`` (256 for MiniLM), and encoded shortest first so a batch pads little.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.encoder import Embeddings, l2_normalise, resolve_model
from models.errors import ModelIntegrityError
from models.onnx_export import INPUT_NAMES, ensure_onnx

TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
Tokens = tuple[list[int], ...]


@dataclass(frozen=True)
class Layout:
    """What the folder's modules.json says the model computes, checked for what runs here."""

    dim: int
    max_seq_length: int


def read_layout(folder: Path) -> Layout:
    """The folder's dimension and sequence limit, or why the ONNX backends cannot run it."""
    refuse = f"; use --backend torch (INTERCODER_ENCODER_BACKEND=torch) for {folder}"
    modules = _read_json(folder / "modules.json", refuse)
    try:
        kinds = [(str(module["type"]), str(module["path"])) for module in modules]
    except (KeyError, TypeError) as error:
        problem = f"{folder}/modules.json is not a list of modules with a type and a path"
        raise ModelIntegrityError(f"{problem} ({error})" + refuse) from None
    types = [kind for kind, _ in kinds]
    if types not in ([TRANSFORMER, POOLING], [TRANSFORMER, POOLING, NORMALIZE]) or kinds[0][1]:
        raise ModelIntegrityError(
            "the ONNX backends run a transformer at the folder's top followed by mean pooling "
            f"(and normalisation); {folder}/modules.json lists {kinds}" + refuse
        )
    pooling = _read_json(folder / kinds[1][1] / "config.json", refuse)
    modes = sorted(key for key, on in pooling.items() if key.startswith("pooling_mode") and on)
    if modes != ["pooling_mode_mean_tokens"]:
        raise ModelIntegrityError(
            f"the ONNX backends pool by the mean of the tokens; {folder} pools by {modes}" + refuse
        )
    return Layout(
        dim=int(pooling["word_embedding_dimension"]),
        max_seq_length=_max_seq_length(folder, refuse),
    )


def _max_seq_length(folder: Path, refuse: str) -> int:
    """sentence-transformers' limit: sentence_bert_config.json, else the position table."""
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        limit = _read_json(config, refuse).get("max_seq_length")
        if limit is not None:
            return int(limit)
    return int(_read_json(folder / "config.json", refuse)["max_position_embeddings"])


def _read_json(path: Path, refuse: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelIntegrityError(
            f"the ONNX backends read {path}, a file of every saved sentence-transformers model, "
            f"and could not ({error})" + refuse
        ) from None


def load_tokenizer(folder: Path, max_seq_length: int) -> Any:
    """The folder's fast tokenizer, truncating like sentence-transformers and padding nothing.

    tokenizer.json itself says truncate at 128 and pad to 128; sentence-transformers overrides
    both (truncation at max_seq_length, padding to the longest text of the batch), and so do we.
    """
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelIntegrityError(
            f"the ONNX backends need the fast tokenizer file {path}; it is missing. Save the "
            "model with a recent sentence-transformers, or use --backend torch"
        )
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_seq_length)
    return tokenizer


def pad(tokens: Tokens) -> dict[str, NDArray[np.int64]]:
    """The batch's token ids padded to its longest text, with the attention mask.

    The pad id does not matter: masked positions are never attended to and never pooled.
    """
    width = max(len(ids) for ids in tokens)
    input_ids = np.zeros((len(tokens), width), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, ids in enumerate(tokens):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}


def mean_pool(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> Embeddings:
    """Mean of the unmasked token vectors, then unit length (sentence-transformers' Pooling and
    Normalize modules, with the same 1e-9 floor on the token count)."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return l2_normalise(summed / counts)


class OnnxEncoder:
    """An :class:`~models.encoder.Encoder` running the exported model on ONNX Runtime (CPU).

    ``quantised`` runs the int8 export. The model id is the torch encoder's with ``+onnx`` or
    ``+onnx-int8`` appended: the vectors differ slightly, and caches and indexes are keyed by it.
    ``sort_by_length`` and ``tokenise_once`` exist to measure what each saves
    (eval/bench_encoder.py); the defaults are the fast path.
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        cache_dir: Path,
        quantised: bool = False,
        expected_sha256: str | None = None,
        batch_size: int = 64,
        sort_by_length: bool = True,
        tokenise_once: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        model = resolve_model(model_path, expected_sha256)
        layout = read_layout(model.folder)
        self.model = model
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self.tokenise_once = tokenise_once
        self.max_seq_length = layout.max_seq_length
        self.backend = "onnx-int8" if quantised else "onnx"
        self._dim = layout.dim
        self.tokenizer = load_tokenizer(model.folder, layout.max_seq_length)
        onnx_file = ensure_onnx(model, cache_dir, quantised=quantised)
        self.onnx_path = onnx_file.path
        self.exported = onnx_file.exported
        self._session = _session(onnx_file.data)

    @property
    def model_id(self) -> str:
        return f"{self.model.model_id}+{self.backend}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def context_turns(self) -> int:
        return self.model.context_turns

    def encode(self, texts: list[str]) -> Embeddings:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        texts = list(texts)
        tokens: Tokens | None = self._tokenise(texts) if self.tokenise_once else None
        order = self._order(texts, tokens)
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for rows in self._chunks(order, tokens):
            if tokens is None:
                batch = self._tokenise([texts[row] for row in rows])
            else:
                batch = tuple(tokens[row] for row in rows)
            out[rows] = self._run(batch)
        return out

    def _tokenise(self, texts: list[str]) -> Tokens:
        return tuple(encoding.ids for encoding in self.tokenizer.encode_batch(texts))

    def _order(self, texts: list[str], tokens: Tokens | None) -> NDArray[np.intp]:
        """Shortest first (by tokens when known, else characters); rows go back by index."""
        if not self.sort_by_length:
            return np.arange(len(texts))
        lengths = [len(ids) for ids in tokens] if tokens is not None else [len(t) for t in texts]
        return np.argsort(np.asarray(lengths), kind="stable")

    def _chunks(self, order: NDArray[np.intp], tokens: Tokens | None) -> list[NDArray[np.intp]]:
        """Runs of at most ``batch_size`` rows; sorted by tokens, also cut where padding to the
        run's longest text would waste more than it saves (see :func:`length_runs`)."""
        if tokens is None or not self.sort_by_length:
            return [
                order[start : start + self.batch_size]
                for start in range(0, len(order), self.batch_size)
            ]
        return length_runs(order, [len(tokens[row]) for row in order], self.batch_size)

    def _run(self, tokens: Tokens) -> Embeddings:
        feed = pad(tokens)
        (hidden,) = self._session.run(None, {name: feed[name] for name in INPUT_NAMES})
        return mean_pool(np.asarray(hidden, dtype=np.float32), feed["attention_mask"])


PADDING_SHARE = 0.25
"""Padding a run may carry, as a share of its real tokens (beside the tokens below)."""
PADDING_FREE_TOKENS = 32
"""One model call costs about as much as this many tokens (measured on 2 cores), so this
much padding is cheaper than another call."""


def length_runs(order: NDArray[np.intp], lengths: list[int], most: int) -> list[NDArray[np.intp]]:
    """``order`` (rows sorted shortest first, with their token ``lengths``) cut into runs of at
    most ``most`` rows, each padded to its longest row at little waste.

    A batch pads every text to its longest, and on a CPU padded tokens cost as much as real
    ones: one 100-token text padded nine short ones to 100 tokens each, making a batch of mixed
    lengths slower than encoding them one by one (eval/RESULTS.md, "Load"). Cutting where the
    lengths jump keeps what batching saves (one call's fixed cost for many texts) without that.
    """
    runs: list[NDArray[np.intp]] = []
    start, real = 0, 0
    for position, length in enumerate(lengths):
        count = position - start + 1
        waste = count * length - (real + length)
        if count > 1 and (
            count > most or waste > PADDING_SHARE * (real + length) + PADDING_FREE_TOKENS
        ):
            runs.append(order[start:position])
            start, real = position, 0
        real += length
    runs.append(order[start:])
    return runs


def _session(model_bytes: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One operator at a time, each using every core: a transformer is a chain of matrix
    # products, and parallel operators would only contend for the same two cores here.
    options.inter_op_num_threads = 1
    # Idle intra-op threads sleep instead of spinning for the next operator: on a small
    # machine the service's other work (learning, HTTP, the database) needs those cycles, and
    # spinning cost 15% of its throughput at 20 clients (eval/RESULTS.md, "Load and overload").
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only; ORT otherwise warns about unused initialisers
    return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
