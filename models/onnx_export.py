"""ONNX files of a sentence model, exported locally from its checked weights and kept on disk.

Nothing is downloaded: the transformer in a model folder (bundled or a project model) is traced
with ``torch.onnx.export`` once, optionally quantised to int8, and cached under
``<cache_dir>/<model name>@<weights sha256 prefix>/``. Each file has a manifest naming its own
sha256 and the source weights' sha256, so a cached file that was truncated, edited or exported
from other weights is noticed and exported again. Files are written to a temporary name in the
same folder and renamed into place, so two processes exporting at once each leave a whole file;
the loader hashes the bytes it actually hands to ONNX Runtime.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.encoder import ModelFolder, offline_transformers
from models.errors import ModelIntegrityError

logger = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
OPSET = 17
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class OnnxFile:
    """A verified ONNX model: its bytes (what the session loads), path and sha256."""

    path: Path
    data: bytes
    sha256: str
    exported: bool
    """True when this call exported (or quantised) it, False when the cached file was reused."""


def onnx_folder(model: ModelFolder, cache_dir: Path) -> Path:
    """Where the ONNX files of this model (these exact weights) are cached."""
    slug = model.name.replace("/", "--")
    return Path(cache_dir) / f"{slug}@{model.weights_sha256[:12]}"


def ensure_onnx(model: ModelFolder, cache_dir: Path, *, quantised: bool) -> OnnxFile:
    """The cached ONNX file for ``model``, exported (and quantised) first when missing or bad."""
    folder = onnx_folder(model, cache_dir)
    target = folder / ("model-int8.onnx" if quantised else "model.onnx")
    cached = _read_verified(target, model.weights_sha256)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    if quantised:
        source = ensure_onnx(model, cache_dir, quantised=False)
        _write_atomically(target, lambda tmp: quantise(source.path, tmp))
    else:
        _write_atomically(target, lambda tmp: export(model.folder, tmp))
    data = target.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    manifest = {
        "format": MANIFEST_FORMAT,
        "sha256": digest,
        "source_weights_sha256": model.weights_sha256,
        "quantised": quantised,
    }
    _write_atomically(_manifest_path(target), lambda tmp: tmp.write_text(json.dumps(manifest)))
    return OnnxFile(path=target, data=data, sha256=digest, exported=True)


def _manifest_path(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _read_verified(target: Path, weights_sha256: str) -> OnnxFile | None:
    """The cached file when it and its manifest agree with these weights; None (with the reason
    logged) when it must be exported again."""
    manifest_path = _manifest_path(target)
    if not target.is_file() or not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        expected, source = str(manifest["sha256"]), str(manifest["source_weights_sha256"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("unreadable manifest %s (%s); exporting again", manifest_path, error)
        return None
    if source != weights_sha256:
        logger.warning("%s was exported from other weights; exporting again", target)
        return None
    data = target.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        logger.warning(
            "%s has sha256 %s, its manifest says %s (corrupted or replaced); exporting again",
            target,
            digest,
            expected,
        )
        return None
    return OnnxFile(path=target, data=data, sha256=digest, exported=False)


def _write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """``write`` fills a temporary file beside ``target``, which then replaces it in one rename."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp's 0600 would hide the cache from the data dir's other users
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def export(model_dir: Path, destination: Path) -> None:
    """Trace the folder's transformer (token embeddings out; pooling stays in numpy) to ONNX."""
    import torch

    offline_transformers()
    from transformers import AutoModel

    try:
        # Eager attention traces to plain MatMul/Softmax nodes; the SDPA path carries Python
        # conditions on shapes that tracing would freeze, and int8 quantisation would not reach.
        transformer = AutoModel.from_pretrained(
            str(model_dir), local_files_only=True, attn_implementation="eager"
        )
    except (OSError, ValueError) as error:
        raise ModelIntegrityError(
            f"could not load the transformer in {model_dir} to export it to ONNX: {error}; "
            "use --backend torch for this model"
        ) from None

    class LastHiddenState(torch.nn.Module):
        """Positional inputs, one tensor out: what the legacy ONNX exporter traces cleanly."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, types: torch.Tensor
        ) -> torch.Tensor:
            out = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types
            )
            hidden: torch.Tensor = out.last_hidden_state
            return hidden

    wrapper = LastHiddenState().eval()
    # Two rows of different length so the traced graph handles padding like any batch.
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]])
    mask = (ids != 0).long()
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation notes about the legacy exporter
        torch.onnx.export(
            wrapper,
            (ids, mask, torch.zeros_like(ids)),
            str(destination),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,  # the torch.export route needs onnxscript and gains nothing here
        )


def quantise(source: Path, destination: Path) -> None:
    """int8 dynamic quantisation of the weight matrices, one scale per output channel.

    Per-channel scales kept the embeddings' cosine to fp32 at about 0.97-0.98 where one scale
    per matrix gave 0.86 (eval/RESULTS.md); products of two activations (attention scores) stay
    float, since dynamic quantisation of both sides only adds error there.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic warns on the root logger to run its pre-processing, which is for
    # static quantisation of convolutional models; a user of the CLI would only be puzzled.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            str(source),
            str(destination),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            extra_options={"MatMulConstBOnly": True},
        )
    finally:
        logging.disable(previous)
