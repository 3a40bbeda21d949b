"""Benchmark: how long the linear head takes to fit with calibration, and to learn one more
exemplar, before and after the joint solver (k-NN for reference).

"old" is ``LinearSuggester(solver="per-code")``: a scikit-learn fit per code, and what the
service did after a small change (a new fit with ``calibration_folds=1``, thresholds carried
over). "new" is the default joint solver: one L-BFGS run for every code, calibration folds
warm-started from the full fit, and ``update()`` warm-started from the fitted state. Data: the
shipped 75-code interview codebook, synthetic 384-d unit vectors around one centre per code,
each unit with one code and a second one for a fifth of them (multi-label, so every code gets
its own model and calibration runs). All rows are timed in one run, alternating, so machine
noise hits them alike. Also timed: building the evidence index, exact (now) or HNSW (what
"auto" built above 10,000 exemplars before).

Run: ``.venv/bin/python -m eval.bench_fit [--sizes 1000,10000,50000] [--repeats 1]
[--old-up-to 10000] [--embeddings DATA_DIR/embeddings.sqlite]``. With ``--embeddings`` the
vectors are real sentence embeddings from an embedding cache, with the same random codes.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from codebook.loader import load_codebook
from codebook.model import Codebook
from models.exemplars import Exemplars
from models.suggesters import BaseSuggester, KnnSuggester, LinearSuggester, linear_joint
from models.suggesters.search import ExemplarSearch

DIM = 384
Variant = tuple[str, Callable[[], BaseSuggester], bool]  # name, factory, old refit path
VARIANTS: tuple[Variant, ...] = (
    ("linear, old (per-code)", lambda: LinearSuggester(solver="per-code"), True),
    ("linear, new (joint)", LinearSuggester, False),
    ("knn (reference)", KnnSuggester, False),
)


def synthetic_exemplars(codebook: Codebook, count: int, seed: int = 0) -> Exemplars:
    codes = codebook.codable_ids
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(codes), DIM))
    first = rng.integers(0, len(codes), count)
    vectors = centres[first] + 2.0 * rng.normal(size=(count, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    second = rng.integers(0, len(codes), count)
    with_second = rng.random(count) < 0.2
    code_sets = tuple(
        frozenset({codes[a], codes[b]} if extra else {codes[a]})
        for a, b, extra in zip(first, second, with_second, strict=True)
    )
    return Exemplars(
        model_id="synthetic",
        vectors=vectors.astype(np.float32),
        codes=code_sets,
        texts=tuple(f"unit {i}" for i in range(count)),
        ids=np.arange(count, dtype=np.int64),
        groups=tuple(f"transcript {i % 50}" for i in range(count)),
    )


def cached_embeddings(path: Path, count: int) -> NDArray[np.float32]:
    """Real sentence embeddings, as many as asked (or all there are), from an intercoder
    embedding cache (``<data dir>/embeddings.sqlite``, filled by any evaluation)."""
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT vector FROM embeddings LIMIT ?", (count,)).fetchall()
    if not rows:
        raise SystemExit(f"{path} holds no embeddings; run an evaluation with it first")
    return np.stack([np.frombuffer(row[0], dtype=np.float32) for row in rows])


def with_vectors(exemplars: Exemplars, vectors: NDArray[np.float32]) -> Exemplars:
    """The synthetic codes and groups on other vectors: real embeddings whose codes carry no
    signal, the hardest case for the solver (it fits noise, so it iterates longest)."""
    return Exemplars(
        model_id="cached",
        vectors=vectors,
        codes=exemplars.codes[: len(vectors)],
        texts=exemplars.texts[: len(vectors)],
        ids=exemplars.ids[: len(vectors)],
        groups=exemplars.groups[: len(vectors)],
    )


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fit_and_update(
    variant: Variant, exemplars: Exemplars, plus_one: Exemplars, codebook: Codebook
) -> tuple[float, float]:
    """Seconds for the first calibrated fit, then for learning ``plus_one`` (one more)."""
    _, factory, old_refit = variant
    suggester = factory()
    first = _seconds(lambda: suggester.fit(exemplars, codebook))
    if old_refit:
        refit = factory()
        refit.calibration_folds = 1
        return first, _seconds(lambda: refit.fit(plus_one, codebook))
    return first, _seconds(lambda: suggester.update(plus_one))


def _index_seconds(exemplars: Exemplars, codebook: Codebook) -> str:
    exact = _seconds(lambda: ExemplarSearch.own(exemplars, codebook.version, "exact"))
    hnsw = _seconds(lambda: ExemplarSearch.own(exemplars, codebook.version, "hnsw"))
    return f"evidence index build: exact {exact:.2f} s, HNSW {hnsw:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="exemplar counts, commas")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--old-up-to", type=int, default=10_000, help="skip old above this")
    parser.add_argument("--matmul", choices=("float32", "float64"), default="float32")
    parser.add_argument(
        "--embeddings",
        type=Path,
        default=None,
        help="an embedding cache (embeddings.sqlite): real embeddings instead of synthetic "
        "vectors, with the same random codes (sizes above what it holds are cut to it)",
    )
    args = parser.parse_args()
    linear_joint.MATMUL_DTYPE = np.dtype(args.matmul).type
    sizes = [int(size) for size in args.sizes.split(",")]
    codebook = load_codebook("interview")
    print(f"interview codebook ({len(codebook.codable_ids)} codes), {os.cpu_count()} CPUs, ")
    print(f"load average at start {os.getloadavg()}, joint matmuls in {args.matmul}")
    rows = []
    for size in sizes:
        plus_one = synthetic_exemplars(codebook, size + 1)
        if args.embeddings is not None:
            plus_one = with_vectors(plus_one, cached_embeddings(args.embeddings, size + 1))
            size = len(plus_one) - 1
        exemplars = plus_one.subset(np.arange(size))
        chosen = [v for v in VARIANTS if not (v[2] and size > args.old_up_to)]
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in chosen}
        for _ in range(args.repeats):
            for variant in chosen:
                timings[variant[0]].append(fit_and_update(variant, exemplars, plus_one, codebook))
        for name, _, _ in chosen:
            first = statistics.median(t[0] for t in timings[name])
            update = statistics.median(t[1] for t in timings[name])
            rows.append(f"| {size:,} | {name} | {first:.2f} | {update:.3f} |")
        if size > args.old_up_to:
            rows.append(f"| {size:,} | linear, old (per-code) | skipped (--old-up-to) | |")
        print(f"{size:,} exemplars: {_index_seconds(exemplars, codebook)}", flush=True)
    print(f"load average at end {os.getloadavg()}")
    print("| exemplars | method | first fit, calibrated (s) | learn one more exemplar (s) |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
