"""The service's encoder thread: concurrent requests' texts embedded in one model call, each
request getting exactly the vectors it would have got alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import Embeddings, Encoder, EncoderWrapper, load_encoder
from models.encoder_onnx import length_runs
from models.testing import HashingEncoder
from service.app.encoder_worker import SerialEncoder

REQUESTS = [
    ["We retrain the model every week."],
    ["Someone could poison our data.", "Thanks for having me."],
    ["Attackers craft inputs to fool it.", "We retrain the model every week."],
    [],
    ["A rather longer sentence about the ways a team deploys and monitors its models."],
]


class GatedEncoder(EncoderWrapper):
    """Holds its first encode until ``gate`` opens, so that other requests queue behind it;
    records the texts of each model call."""

    def __init__(self, model: Encoder | None = None, refuse: str | None = None) -> None:
        super().__init__(model or HashingEncoder())
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.refuse = refuse
        self.calls: list[list[str]] = []
        self.threads: list[str] = []

    def encode(self, texts: list[str]) -> Embeddings:
        self.entered.set()
        self.gate.wait(timeout=60)
        self.calls.append(list(texts))
        self.threads.append(threading.current_thread().name)
        if self.refuse is not None and self.refuse in texts:
            raise ValueError(f"cannot encode {self.refuse!r}")
        return self.encoder.encode(texts)


def _queued(worker: SerialEncoder, count: int) -> None:
    """Wait (bounded) until ``count`` jobs wait behind the running one."""
    deadline = time.monotonic() + 30
    while worker._jobs.qsize() < count and time.monotonic() < deadline:
        time.sleep(0.005)


def _encode_concurrently(
    worker: SerialEncoder,
    gated: GatedEncoder,
    requests: list[list[str]],
    encode: Callable[[list[str]], Embeddings] | None = None,
) -> list[Future[Embeddings]]:
    """The first request runs (held at the gate); the rest queue; then the gate opens."""
    call = encode or worker.encode
    with ThreadPoolExecutor(len(requests) + 1) as pool:
        first = pool.submit(call, ["the request that holds the model"])
        assert gated.entered.wait(timeout=30)
        futures = [pool.submit(call, texts) for texts in requests]
        _queued(worker, len(requests))
        gated.gate.set()
        first.result(timeout=30)
        for future in futures:
            future.exception(timeout=30)
    return futures


def test_queued_requests_share_one_model_call_and_get_their_own_vectors() -> None:
    gated = GatedEncoder()
    worker = SerialEncoder(gated)
    try:
        futures = _encode_concurrently(worker, gated, REQUESTS)
    finally:
        worker.close()
    alone = HashingEncoder()
    for texts, future in zip(REQUESTS, futures, strict=True):
        assert future.result().shape == (len(texts), alone.dim)
        np.testing.assert_allclose(future.result(), alone.encode(texts), atol=1e-6)
    # the held request, then every queued one together
    assert len(gated.calls) == 2
    assert sorted(gated.calls[1]) == sorted(text for texts in REQUESTS for text in texts)


def test_without_micro_batching_each_request_is_its_own_call() -> None:
    gated = GatedEncoder()
    worker = SerialEncoder(gated, micro_batching=False)
    try:
        _encode_concurrently(worker, gated, REQUESTS)
    finally:
        worker.close()
    assert len(gated.calls) == 1 + len(REQUESTS)


def test_a_batch_holds_at_most_max_batch_texts_unless_one_request_is_larger() -> None:
    gated = GatedEncoder()
    worker = SerialEncoder(gated, max_batch_texts=3)
    requests = [["a b"], ["c d", "e f"], ["g h"], ["i", "j", "k", "l", "m"]]
    try:
        futures = _encode_concurrently(worker, gated, requests)
    finally:
        worker.close()
    assert [len(call) for call in gated.calls[1:]] == [3, 1, 5]
    for texts, future in zip(requests, futures, strict=True):
        np.testing.assert_allclose(future.result(), HashingEncoder().encode(texts), atol=1e-6)


def test_a_request_the_model_refuses_fails_alone() -> None:
    gated = GatedEncoder(refuse="poison")
    worker = SerialEncoder(gated)
    requests = [["fine words"], ["poison"], ["more fine words"]]
    try:
        futures = _encode_concurrently(worker, gated, requests)
    finally:
        worker.close()
    assert isinstance(futures[1].exception(), ValueError)
    np.testing.assert_allclose(futures[0].result(), HashingEncoder().encode(["fine words"]))
    np.testing.assert_allclose(futures[2].result(), HashingEncoder().encode(["more fine words"]))


def test_the_cache_encodes_each_new_text_once_across_batched_requests(tmp_path: Path) -> None:
    gated = GatedEncoder()
    cached = CachedEncoder(gated, EmbeddingCache(tmp_path / "cache.sqlite"))
    worker = SerialEncoder(cached)
    try:
        gated.gate.set()
        worker.encode(["already cached"])
        gated.gate.clear()
        gated.entered.clear()
        gated.calls.clear()
        requests = [["already cached", "new one"], ["new one", "new two"], ["already cached"]]
        futures = _encode_concurrently(worker, gated, requests)
        assert cached.cache.count() == 4  # the holder's text, and three texts of the requests
    finally:
        worker.close()
    assert sorted(gated.calls[1]) == ["new one", "new two"]
    for texts, future in zip(requests, futures, strict=True):
        np.testing.assert_allclose(future.result(), HashingEncoder().encode(texts), atol=1e-6)


def test_without_cache_runs_on_the_same_thread_and_skips_the_cache(tmp_path: Path) -> None:
    gated = GatedEncoder()
    cached = CachedEncoder(gated, EmbeddingCache(tmp_path / "cache.sqlite"))
    worker = SerialEncoder(cached)
    gated.gate.set()
    try:
        vectors = worker.without_cache().encode(["not kept"])
        assert cached.cache.count() == 0
    finally:
        worker.close()
    assert gated.threads == ["encoder"]
    np.testing.assert_allclose(vectors, HashingEncoder().encode(["not kept"]))


def test_close_finishes_queued_work_then_refuses_more() -> None:
    worker = SerialEncoder(HashingEncoder())
    assert worker.encode(["before close"]).shape == (1, 64)
    worker.close()
    with pytest.raises(RuntimeError, match="closed"):
        worker.encode(["after close"])


def test_length_runs_cut_where_padding_would_waste_and_keep_every_row() -> None:
    lengths = [5, 6, 6, 7, 40, 41, 120]
    order = np.arange(len(lengths))
    runs = length_runs(order, lengths, most=64)
    assert np.concatenate(runs).tolist() == order.tolist()
    assert [run.tolist() for run in runs] == [[0, 1, 2, 3], [4, 5], [6]]
    capped = length_runs(np.arange(5), [5] * 5, most=2)
    assert [len(run) for run in capped] == [2, 2, 1]


@pytest.mark.slow
def test_the_real_model_gives_each_request_its_alone_vectors(tmp_path: Path) -> None:
    """The default backend (ONNX), batched over requests of mixed lengths and alone."""
    model: Encoder = load_encoder(backend="onnx", cache_dir=tmp_path / "onnx")
    requests = [
        ["Thanks for filling it out."],
        [
            "Sure.",
            "It helps us provide better care, and we give this form to everyone once a "
            "year regardless of why they come in, so is it okay if I take a look?",
        ],
        ["How much do you usually drink in a week?", "Okay."],
        ["You have been thinking about cutting down for a while now."],
    ]
    alone = [model.encode(texts) for texts in requests]
    gated = GatedEncoder(model)
    worker = SerialEncoder(gated)
    try:
        futures = _encode_concurrently(worker, gated, requests)
    finally:
        worker.close()
    assert len(gated.calls) == 2  # the held call, then all the requests' texts in one
    for future, reference in zip(futures, alone, strict=True):
        np.testing.assert_allclose(future.result(), reference, atol=1e-5)
