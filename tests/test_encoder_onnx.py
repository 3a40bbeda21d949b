"""The ONNX backends against the torch encoder: same vectors (fp32) or close ones (int8), the
export cached and checked, and the setting and the CLI option reaching the encoder.

One export per module (a few seconds) is shared by every test through a module-scoped cache
folder; tests that damage the cache work on a copy of it.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from codebook.background import load_background
from models.cache import CachedEncoder
from models.encoder import (
    ENCODER_BACKENDS,
    Embeddings,
    Encoder,
    SentenceTransformerEncoder,
    bundled_model_dir,
    load_encoder,
    resolve_model,
)
from models.encoder_onnx import OnnxEncoder
from models.errors import ModelIntegrityError
from models.onnx_export import onnx_folder
from models.testing import HashingEncoder
from service.app import runtime
from service.app.runtime import build_encoder
from service.cli.main import app
from service.settings import Settings, get_settings

pytestmark = pytest.mark.slow  # every test here loads the real model

LONG = " ".join(["The interviewer asked again about the retraining schedule."] * 60)  # > 256


def sentences() -> list[str]:
    """A few dozen real sentences of very different lengths, one over the 256-token limit."""
    texts = [sentence.text for sentence in load_background()[:40]]
    extra = [LONG, "Yes.", "We retrain the model every week on new customer data."]
    return list(dict.fromkeys([*texts, *extra]))  # distinct, so each row has one match


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def encoders(cache_dir: Path) -> dict[str, Encoder]:
    return {
        backend: load_encoder(backend=backend, cache_dir=cache_dir) for backend in ENCODER_BACKENDS
    }


@pytest.fixture(scope="module")
def reference(encoders: dict[str, Encoder]) -> Embeddings:
    return encoders["torch"].encode(sentences())


def cosines(a: Embeddings, b: Embeddings) -> Embeddings:
    result: Embeddings = (a * b).sum(axis=1)
    return result


def test_onnx_fp32_gives_the_torch_vectors(
    encoders: dict[str, Encoder], reference: Embeddings
) -> None:
    vectors = encoders["onnx"].encode(sentences())
    assert vectors.shape == reference.shape == (len(sentences()), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert cosines(vectors, reference).min() >= 0.9999


def test_onnx_int8_stays_close_to_torch(
    encoders: dict[str, Encoder], reference: Embeddings
) -> None:
    # int8 does not reach 0.99 (eval/RESULTS.md, "Encoder backends"): 0.97-0.98 on average,
    # about 0.95 at worst (short back-channels fare worst); this guards that level.
    similarity = cosines(encoders["onnx-int8"].encode(sentences()), reference)
    assert similarity.mean() >= 0.965
    assert similarity.min() >= 0.94


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_length_sorting_keeps_the_callers_order(encoders: dict[str, Encoder], backend: str) -> None:
    texts = sentences()
    encoder = encoders[backend]
    together = encoder.encode(texts)
    one_by_one = np.vstack([encoder.encode([text]) for text in texts])
    if backend == "onnx":
        np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    else:  # int8 scales activations per batch: a vector moves a little with its neighbours
        assert cosines(together, one_by_one).min() >= 0.94
    assert np.array_equal(np.argmax(together @ one_by_one.T, axis=1), np.arange(len(texts)))


def test_tokenising_per_batch_gives_the_same_vectors(cache_dir: Path) -> None:
    fast = OnnxEncoder(cache_dir=cache_dir, batch_size=8)
    slow = OnnxEncoder(cache_dir=cache_dir, batch_size=8, tokenise_once=False)
    unsorted = OnnxEncoder(cache_dir=cache_dir, batch_size=8, sort_by_length=False)
    texts = sentences()
    np.testing.assert_allclose(fast.encode(texts), slow.encode(texts), atol=1e-5)
    np.testing.assert_allclose(fast.encode(texts), unsorted.encode(texts), atol=1e-5)
    assert fast.encode([]).shape == (0, 384)


def test_model_id_differs_per_backend(encoders: dict[str, Encoder]) -> None:
    ids = {backend: encoder.model_id for backend, encoder in encoders.items()}
    assert len(set(ids.values())) == 3
    assert ids["onnx"] == ids["torch"] + "+onnx"
    assert ids["onnx-int8"] == ids["torch"] + "+onnx-int8"
    assert all(encoder.dim == 384 and encoder.context_turns == 0 for encoder in encoders.values())


def test_second_load_reuses_the_export(cache_dir: Path, encoders: dict[str, Encoder]) -> None:
    folder = onnx_folder(resolve_model(None, None), cache_dir)
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    for backend, quantised in (("onnx", False), ("onnx-int8", True)):
        again = OnnxEncoder(cache_dir=cache_dir, quantised=quantised)
        assert not again.exported, backend
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    assert sorted(before) == [
        "model-int8.onnx",
        "model-int8.onnx.json",
        "model.onnx",
        "model.onnx.json",
    ]


def test_corrupted_export_is_detected_and_replaced(
    cache_dir: Path, tmp_path: Path, reference: Embeddings
) -> None:
    copy = tmp_path / "cache"
    shutil.copytree(cache_dir, copy)
    path = OnnxEncoder(cache_dir=copy).onnx_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    repaired = OnnxEncoder(cache_dir=copy)
    assert repaired.exported
    assert cosines(repaired.encode(sentences()), reference).min() >= 0.9999
    manifest = path.with_name("model.onnx.json")
    manifest.write_text(
        json.dumps({**json.loads(manifest.read_text()), "source_weights_sha256": "0" * 64})
    )
    assert OnnxEncoder(cache_dir=copy).exported  # exported from other weights: not trusted


def test_another_local_folder_runs_and_keeps_its_name(
    tmp_path: Path, reference: Embeddings
) -> None:
    folder = tmp_path / "my-model"
    shutil.copytree(bundled_model_dir(), folder)
    encoder = OnnxEncoder(folder, cache_dir=tmp_path / "cache")
    assert encoder.model_id.startswith("my-model@53aa51172d14+onnx")
    assert cosines(encoder.encode(sentences()), reference).min() >= 0.9999


def test_other_pooling_is_refused_clearly(tmp_path: Path) -> None:
    folder = tmp_path / "cls-model"
    shutil.copytree(bundled_model_dir(), folder)
    config = folder / "1_Pooling" / "config.json"
    pooling = json.loads(config.read_text())
    config.write_text(
        json.dumps({**pooling, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    )
    with pytest.raises(ModelIntegrityError, match="--backend torch"):
        OnnxEncoder(folder, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # refused before any export


@pytest.fixture
def data_dir(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder whose onnx/ already holds the module's export."""
    data = tmp_path / "data"
    shutil.copytree(cache_dir, data / "onnx")
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(data))
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_setting_and_override_reach_the_encoder(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERCODER_ENCODER_BACKEND", "onnx-int8")
    get_settings.cache_clear()
    assert get_settings().encoder_backend == "onnx-int8"
    configured = build_encoder()
    assert isinstance(configured, CachedEncoder)
    assert configured.model_id.endswith("+onnx-int8")
    assert isinstance(configured.encoder, OnnxEncoder)
    assert not configured.encoder.exported
    assert build_encoder(backend="onnx").model_id.endswith("+onnx")
    monkeypatch.delenv("INTERCODER_ENCODER_BACKEND")
    by_default = build_encoder(Settings(data_dir=data_dir))
    assert isinstance(by_default, CachedEncoder)
    assert isinstance(by_default.encoder, OnnxEncoder)  # the default since issue 16
    assert by_default.model_id.endswith("+onnx")
    torch = build_encoder(Settings(data_dir=data_dir, encoder_backend="torch"))
    assert isinstance(torch, CachedEncoder)
    assert isinstance(torch.encoder, SentenceTransformerEncoder)


def test_cli_backend_option_reaches_build_encoder(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str | None] = []

    def recording(*args: object, backend: str | None = None, **kwargs: object) -> Encoder:
        asked.append(backend)
        return HashingEncoder()

    monkeypatch.setattr(runtime, "build_encoder", recording)
    transcript = tmp_path / "interview.txt"
    transcript.write_text("Interviewer: How do you train?\nP1: We retrain every week.\n")
    runner = CliRunner()
    for backend in ("onnx-int8", "torch"):
        result = runner.invoke(
            app, ["suggest", str(transcript), "--codebook", "interview", "--backend", backend]
        )
        assert result.exit_code == 0, result.output
    coded = tmp_path / "coded.csv"
    coded.write_text(textwrap.dedent("""\
        transcript_id,text,codes
        t1,We retrain the model every week.,E.1
        t2,We retrain whenever new data arrives.,E.1
        t3,The training runs on our own servers.,E.1
        """))  # fmt: skip
    result = runner.invoke(
        app,
        ["evaluate", "--data", str(coded), "--codebook", "interview", "--out", str(tmp_path / "r"),
         "--folds", "3", "--method", "majority", "--no-learning-curve", "--backend", "onnx"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    unset = runner.invoke(app, ["suggest", str(transcript), "--codebook", "interview"])
    assert unset.exit_code == 0, unset.output
    assert asked == ["onnx-int8", "torch", "onnx", None]
    bad = runner.invoke(
        app, ["suggest", str(transcript), "--codebook", "interview", "--backend", "tpu"]
    )
    assert bad.exit_code == 2
