"""Benchmark: ExemplarIndex search latency, recall, build time and memory, exact vs HNSW.

Data: synthetic 384-d L2-normalised vectors from a Gaussian mixture (1,000 random unit centres,
isotropic noise of norm ~1, so a vector's cosine to its centre is ~0.7 and to its nearest
neighbours ~0.55): clustered like sentence embeddings, though the isotropic noise makes 1M-sized
clusters harder for approximate search than real embeddings, whose intrinsic dimension is lower,
usually are. Queries are fresh draws from the same mixture.

Latency is one query per call in a single-threaded loop through ``ExemplarIndex.search`` (so
validation and locking are included), FAISS OpenMP threads = 1 unless ``--threads`` says more.
Recall@10 of HNSW is measured against the exact index on the same queries. Builds use 2 threads.

Run: ``.venv/bin/python -m eval.bench_index [--sizes 10000 100000 1000000] [--out FILE]``. The
default sizes take 15-25 minutes on 2 cores, most of it building the 1M graph (10-20 min) and
timing 1,000 exact searches at 1M (~2.5 min): run that one under nohup with a log.
Target (issue): p50 < 5 ms at 1M exemplars with recall@10 >= 0.95.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from models.index import EF_CONSTRUCTION, EF_SEARCH, HNSW_M, ExemplarIndex

DIM = 384
CENTRES = 1_000
NOISE = 1.0
K = 10
BUILD_THREADS = 2
_CHUNK = 100_000
_THRESHOLD_SIZES = (5_000, 10_000, 12_500, 15_000, 17_500, 20_000, 30_000)


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    size: int
    kind: str
    settings: str
    threads: int
    build_s: float | None
    file_mib: float | None
    save_s: float | None
    load_s: float | None
    p50_ms: float
    p99_ms: float
    recall: float | None


def mixture(count: int, seed: int) -> npt.NDArray[np.float32]:
    """``count`` unit vectors from the fixed mixture; ``seed`` picks the draws, not the centres."""
    centres = np.random.default_rng(12345).standard_normal((CENTRES, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    out = np.empty((count, DIM), dtype=np.float32)
    for start in range(0, count, _CHUNK):
        stop = min(count, start + _CHUNK)
        block = rng.standard_normal((stop - start, DIM), dtype=np.float32) * (NOISE / DIM**0.5)
        block += centres[rng.integers(0, CENTRES, stop - start)]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


@dataclass(frozen=True)
class Built:
    """How long an index took to build, save and load, and the size of its FAISS file."""

    build_s: float
    file_mib: float
    save_s: float
    load_s: float


def build(index: ExemplarIndex, vectors: npt.NDArray[np.float32]) -> Built:
    """Add ``vectors`` in chunks, then time a save and a load of the result.

    The size of ``index.faiss`` stands for the index's memory: FAISS holds in RAM what it
    writes. RSS deltas were tried and are useless here, as freed NumPy buffers get reused.
    """
    faiss.omp_set_num_threads(BUILD_THREADS)
    started = time.perf_counter()
    for start in range(0, len(vectors), _CHUNK):
        block = vectors[start : start + _CHUNK]
        index.add(np.arange(start, start + len(block), dtype=np.int64), block)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        started = time.perf_counter()
        index.save(Path(folder))
        save_s = time.perf_counter() - started
        file_mib = (Path(folder) / "index.faiss").stat().st_size / 2**20
        started = time.perf_counter()
        ExemplarIndex.load(Path(folder), expected_model_id=index.metadata.model_id)
        load_s = time.perf_counter() - started
    return Built(build_s, file_mib, save_s, load_s)


def latencies_ms(
    index: ExemplarIndex, queries: npt.NDArray[np.float32], threads: int
) -> tuple[float, float, npt.NDArray[np.int64]]:
    """(p50, p99) of one-query searches, and the ids each query found."""
    faiss.omp_set_num_threads(threads)
    found = np.empty((len(queries), K), dtype=np.int64)
    times = np.empty(len(queries))
    for row, query in enumerate(queries):
        started = time.perf_counter()
        result = index.search(query, K)
        times[row] = time.perf_counter() - started
        found[row] = result.ids[0]
    p50, p99 = np.percentile(times * 1e3, [50, 99])
    return float(p50), float(p99), found


def recall_at_k(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    """Mean share of each query's true top-k that ``found`` contains."""
    hits = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, truth, strict=True))
    return hits / truth.size


def new_index(kind: str, **settings: int) -> ExemplarIndex:
    return ExemplarIndex(
        DIM,
        model_id="bench",
        codebook_version="bench",
        kind="exact" if kind == "exact" else "hnsw",
        **settings,
    )


def bench_size(size: int, queries: npt.NDArray[np.float32], args: argparse.Namespace) -> list[Row]:
    """Exact and HNSW rows for one index size."""
    vectors = mixture(size, seed=1)
    rows: list[Row] = []
    exact = new_index("exact")
    built = build(exact, vectors)
    faiss.omp_set_num_threads(BUILD_THREADS)
    truth = exact.search(queries, K).ids
    for threads in args.threads:
        p50, p99, _ = latencies_ms(exact, queries, threads)
        rows.append(Row(size, "exact", "flat IP", threads, *_costs(built), p50, p99, 1.0))
        _report(rows[-1])
    del exact
    graph = {"hnsw_m": args.hnsw_m, "ef_construction": args.ef_construction}
    hnsw = new_index("hnsw", **graph)
    built = build(hnsw, vectors)
    for ef in args.ef_search:
        hnsw.ef_search = ef
        p50, p99, found = latencies_ms(hnsw, queries, 1)
        settings = f"M={args.hnsw_m} efC={args.ef_construction} efS={ef}"
        recall = recall_at_k(found, truth)
        rows.append(Row(size, "hnsw", settings, 1, *_costs(built), p50, p99, recall))
        _report(rows[-1])
    return rows


def threshold_rows(queries: npt.NDArray[np.float32], sizes: Sequence[int]) -> list[Row]:
    """Exact one-query latency around the auto-switch threshold."""
    vectors = mixture(max(sizes), seed=2)
    rows = []
    for size in sizes:
        exact = new_index("exact")
        exact.add(np.arange(size, dtype=np.int64), vectors[:size])
        p50, p99, _ = latencies_ms(exact, queries, 1)
        rows.append(Row(size, "exact", "flat IP", 1, None, None, None, None, p50, p99, None))
        _report(rows[-1])
    return rows


def _costs(built: Built) -> tuple[float, float, float, float]:
    return built.build_s, built.file_mib, built.save_s, built.load_s


def _report(row: Row) -> None:
    print(_table_line(row), flush=True)


def _cell(value: float | None, fmt: Callable[[float], str]) -> str:
    return "" if value is None else fmt(value)


def _table_line(row: Row) -> str:
    return (
        f"| {row.size:,} | {row.kind} | {row.settings} | {row.threads} "
        f"| {_cell(row.build_s, lambda v: f'{v:.1f}')} "
        f"| {_cell(row.file_mib, lambda v: f'{v:.0f}')} "
        f"| {_cell(row.save_s, lambda v: f'{v:.1f}')} | {_cell(row.load_s, lambda v: f'{v:.1f}')} "
        f"| {row.p50_ms:.3f} | {row.p99_ms:.3f} | {_cell(row.recall, lambda v: f'{v:.4f}')} |"
    )


def markdown(rows: list[Row], command: str) -> str:
    """The results as a markdown fragment with the machine, date and command."""
    header = (
        "| exemplars | kind | settings | query threads | build s | index.faiss MiB | save s "
        "| load s | p50 ms | p99 ms | recall@10 |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return "\n".join(
        [
            f"Command: `{command}`  ",
            f"Machine: {machine}; faiss {faiss.__version__}; "
            f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average at the end "
            f"(1/5/15 min, other jobs share the cores): {load}",
            "",
            header,
            *(_table_line(row) for row in rows),
            "",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="exact query threads")
    parser.add_argument("--hnsw-m", type=int, default=HNSW_M)
    parser.add_argument("--ef-construction", type=int, default=EF_CONSTRUCTION)
    parser.add_argument(
        "--ef-search", type=int, nargs="+", default=sorted({32, 64, 128, 256, EF_SEARCH})
    )
    parser.add_argument(
        "--threshold-sizes",
        type=int,
        nargs="*",
        default=list(_THRESHOLD_SIZES),
        help="exact-only sizes for choosing approximate_above; none to skip",
    )
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    queries = mixture(args.queries, seed=0)
    print("| size | kind | settings | threads | build s | MiB | save | load | p50 | p99 | recall |")
    rows = threshold_rows(queries, args.threshold_sizes) if args.threshold_sizes else []
    for size in args.sizes:
        rows.extend(bench_size(size, queries, args))
    command = "python -m eval.bench_index " + " ".join(sys.argv[1:] if argv is None else argv)
    text = markdown(rows, command.strip())
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
