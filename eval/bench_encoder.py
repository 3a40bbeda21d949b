"""Benchmark: the encoder backends (torch fp32, ONNX fp32, ONNX int8), how fast, how close.

Throughput: sentences per second of ``encode`` on the same real texts (a random sample, half
AnnoMI turns, half SwDA utterances) at the same batch size, after a warm-up, ``--repeats``
times, in chunks of ``--chunk`` texts (a transcript's worth) that every variant encodes in turn;
reported: median and best repeat, and the median of the chunk-by-chunk ratios to torch fp32,
the fairest figure on a machine shared with other jobs. Two ONNX variants isolate what the fast path
gains: texts in the caller's order instead of sorted by length (more padding), and tokenised
batch by batch (sorted by characters) instead of all at once (sorted by tokens).

Closeness: cosine of each ONNX backend's vector to torch fp32's, text by text (min, 1st
percentile, mean), on every AnnoMI unit (both schemes) and on a random SwDA sample. With
``--embeddings DATA_DIR/embeddings.sqlite`` the vectors come from that cache where present
(keyed by model id, so ``intercoder evaluate --backend X`` runs fill it) and only missing texts
are encoded. Agreement (kappa) comes from ``intercoder evaluate``, not from here: see
eval/RESULTS.md, "Encoder backends (issue 16)".

Run: ``.venv/bin/python -m eval.bench_encoder [--sentences 5000] [--batch-size 64]
[--repeats 3] [--chunk 1000] [--swda-sample 5000] [--embeddings DATA_DIR/embeddings.sqlite]
[--onnx-dir DATA_DIR/onnx]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from codebook.datasets import load_dataset
from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import ENCODER_BACKENDS, Embeddings, Encoder, EncoderBackend, load_encoder
from models.encoder_onnx import OnnxEncoder


@dataclass(frozen=True)
class Variant:
    """One timed way to encode: a backend, or an ONNX backend with one speed-up turned off."""

    name: str
    build: Callable[[], Encoder]


def dataset_texts(shared: Path | None) -> tuple[list[str], list[str]]:
    """Every distinct AnnoMI unit (therapist and client) and every SwDA utterance."""
    annomi = pd.concat(
        [load_dataset(name, shared)[1] for name in ("annomi:therapist", "annomi:client")]
    )
    swda = load_dataset("swda", shared)[1]
    return _distinct(annomi["text"]), _distinct(swda["text"])


def _distinct(column: pd.Series) -> list[str]:
    return list(dict.fromkeys(column.astype(str)))


def sample(texts: list[str], count: int, seed: int) -> list[str]:
    """``count`` of the texts at random (all of them, shuffled, when there are fewer)."""
    count = min(count, len(texts))
    chosen = np.random.default_rng(seed).choice(len(texts), count, replace=False)
    return [texts[index] for index in chosen]


def variants(onnx_dir: Path, batch_size: int) -> list[Variant]:
    def onnx(quantised: bool, *, sort: bool = True, once: bool = True) -> Callable[[], Encoder]:
        return lambda: OnnxEncoder(
            cache_dir=onnx_dir,
            quantised=quantised,
            batch_size=batch_size,
            sort_by_length=sort,
            tokenise_once=once,
        )

    return [
        Variant("torch fp32", lambda: load_encoder(backend="torch", batch_size=batch_size)),
        Variant("onnx fp32", onnx(False)),
        Variant("onnx fp32, unsorted", onnx(False, sort=False)),
        Variant("onnx fp32, tokenised per batch", onnx(False, once=False)),
        Variant("onnx int8", onnx(True)),
        Variant("onnx int8, unsorted", onnx(True, sort=False)),
    ]


@dataclass(frozen=True)
class Rates:
    """Sentences per second of each variant (median and best repeat) and, chunk by chunk, its
    speed relative to torch fp32 timed right before it (median of those paired ratios)."""

    median: dict[str, float]
    best: dict[str, float]
    vs_torch: dict[str, float]


def throughput(
    chosen: list[Variant], texts: list[str], repeats: int, warmup: int, chunk: int
) -> Rates:
    """Each variant encodes each chunk in turn, so a burst of load from elsewhere on a shared
    machine hits the variants alike and the paired ratios stay fair."""
    encoders = {variant.name: variant.build() for variant in chosen}
    for encoder in encoders.values():
        encoder.encode(texts[:warmup])
    seconds: dict[str, list[list[float]]] = {name: [] for name in encoders}
    for _ in range(repeats):
        for times in seconds.values():
            times.append([])
        for start in range(0, len(texts), chunk):
            part = texts[start : start + chunk]
            for name, encoder in encoders.items():
                started = time.perf_counter()
                encoder.encode(part)
                seconds[name][-1].append(time.perf_counter() - started)
    per_repeat = {name: [len(texts) / sum(t) for t in times] for name, times in seconds.items()}
    torch_times = np.asarray(seconds["torch fp32"])
    return Rates(
        median={name: statistics.median(rates) for name, rates in per_repeat.items()},
        best={name: max(rates) for name, rates in per_repeat.items()},
        vs_torch={
            name: float(np.median(torch_times / np.asarray(times)))
            for name, times in seconds.items()
        },
    )


def tokenising_seconds(onnx_dir: Path, texts: list[str], batch_size: int) -> tuple[float, float]:
    """Seconds to tokenise the texts in one call, and batch by batch (the tokenizer alone)."""
    tokenizer = OnnxEncoder(cache_dir=onnx_dir).tokenizer
    started = time.perf_counter()
    tokenizer.encode_batch(texts)
    once = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        tokenizer.encode_batch(texts[start : start + batch_size])
    return once, time.perf_counter() - started


def closeness(
    encoders: dict[EncoderBackend, Encoder], texts: list[str], cache: EmbeddingCache | None
) -> dict[str, tuple[float, float, float]]:
    """(min, 1st percentile, mean) cosine of each ONNX backend to torch fp32, text by text."""
    vectors = {name: _vectors(encoder, texts, cache) for name, encoder in encoders.items()}
    result: dict[str, tuple[float, float, float]] = {}
    for name in ENCODER_BACKENDS[1:]:
        cosine = (vectors[name] * vectors["torch"]).sum(axis=1)
        result[name] = (float(cosine.min()), float(np.percentile(cosine, 1)), float(cosine.mean()))
    return result


def _vectors(encoder: Encoder, texts: list[str], cache: EmbeddingCache | None) -> Embeddings:
    return (encoder if cache is None else CachedEncoder(encoder, cache)).encode(texts)


def mean_tokens(onnx_dir: Path, texts: list[str]) -> float:
    tokenizer = OnnxEncoder(cache_dir=onnx_dir).tokenizer
    return float(np.mean([len(encoding.ids) for encoding in tokenizer.encode_batch(texts)]))


def print_throughput(rates: Rates, texts: list[str], batch_size: int, chunk: int) -> None:
    print(f"\n{len(texts):,} texts in chunks of {chunk}, batch {batch_size}")
    print("| encoder | sentences/s, median | best | vs torch fp32 (paired, median) |")
    print("|---|---|---|---|")
    for name, rate in rates.median.items():
        print(f"| {name} | {rate:.0f} | {rates.best[name]:.0f} | {rates.vs_torch[name]:.2f}x |")
    ratio = rates.vs_torch
    for quantised in ("fp32", "int8"):
        gain = ratio[f"onnx {quantised}"] / ratio[f"onnx {quantised}, unsorted"]
        print(f"length sorting, onnx {quantised}: {gain:.2f}x")
    once = ratio["onnx fp32"] / ratio["onnx fp32, tokenised per batch"]
    print(f"tokenising once (sorted by tokens) vs per batch (sorted by characters): {once:.2f}x")


def print_closeness(label: str, count: int, rows: dict[str, tuple[float, float, float]]) -> None:
    print(f"\ncosine to torch fp32, {label} ({count:,} texts)")
    print("| backend | min | 1st percentile | mean |")
    print("|---|---|---|---|")
    for name, (low, first, mean) in rows.items():
        print(f"| {name} | {low:.4f} | {first:.4f} | {mean:.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=5_000, help="texts timed")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1_000, help="texts per encode call")
    parser.add_argument("--warmup", type=int, default=200, help="texts encoded before timing")
    parser.add_argument("--swda-sample", type=int, default=5_000, help="SwDA texts compared")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared-dir", type=Path, default=None, help="the datasets' folder")
    parser.add_argument("--embeddings", type=Path, default=None, help="an embeddings.sqlite")
    parser.add_argument("--onnx-dir", type=Path, default=None, help="ONNX export cache")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    onnx_dir = args.onnx_dir or Path(tempfile.mkdtemp(prefix="bench-encoder-onnx-"))
    annomi, swda = dataset_texts(args.shared_dir)
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()}")
    if not args.skip_throughput:
        half = args.sentences // 2  # interview turns and short dialogue acts alike
        timed = sample(sample(annomi, half, args.seed) + sample(swda, half, args.seed), 10**9, 0)
        print(f"timed texts: {mean_tokens(onnx_dir, timed):.1f} tokens on average")
        chosen = variants(onnx_dir, args.batch_size)
        rates = throughput(chosen, timed, args.repeats, args.warmup, args.chunk)
        print_throughput(rates, timed, args.batch_size, args.chunk)
        once, per_batch = tokenising_seconds(onnx_dir, timed, args.batch_size)
        print(f"tokenizer alone: {once:.2f} s in one call, {per_batch:.2f} s batch by batch")
    encoders = {
        backend: load_encoder(backend=backend, batch_size=args.batch_size, cache_dir=onnx_dir)
        for backend in ENCODER_BACKENDS
    }
    cache = None if args.embeddings is None else EmbeddingCache(args.embeddings)
    print_closeness("all AnnoMI units", len(annomi), closeness(encoders, annomi, cache))
    swda_sample = sample(swda, args.swda_sample, args.seed)
    print_closeness("SwDA sample", len(swda_sample), closeness(encoders, swda_sample, cache))
    print(f"\nload average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
