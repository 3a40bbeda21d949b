"""Benchmark: how long each suggester takes to fit, first with calibration and then the quick
refit the service does after a small change (thresholds carried over, ``calibration_folds=1``).

This is why the service refits slow methods in the background
(``INTERCODER_BACKGROUND_FIT_SECONDS``): the k-NN refit is an index build, the linear one a
logistic regression per code. Data: the shipped 75-code interview codebook, synthetic 384-d
unit vectors around one centre per code, each unit with one code and a second one for a fifth
of them (multi-label, so every code gets its own model and calibration runs). All methods are
timed in one run, alternating, so machine noise hits them alike.

Run: ``.venv/bin/python -m eval.bench_fit [--exemplars 10000] [--repeats 1]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from codebook.loader import load_codebook
from codebook.model import Codebook
from models.exemplars import Exemplars
from models.suggesters import make_suggester

METHODS = ("knn", "linear", "blend")
DIM = 384


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


def fit_seconds(method: str, exemplars: Exemplars, codebook: Codebook, folds: int) -> float:
    started = time.perf_counter()
    make_suggester(method, calibration_folds=folds).fit(exemplars, codebook)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exemplars", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    codebook = load_codebook("interview")
    exemplars = synthetic_exemplars(codebook, args.exemplars)
    timings: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.repeats):
        for folds in (3, 1):
            for method in METHODS:
                seconds = fit_seconds(method, exemplars, codebook, folds)
                timings.setdefault((method, folds), []).append(seconds)
    knn_refit = statistics.median(timings[("knn", 1)])
    print(f"interview codebook ({len(codebook.codable_ids)} codes), {args.exemplars} exemplars")
    print("| method | first fit, calibrated (s) | refit, thresholds kept (s) | / knn refit |")
    print("|---|---|---|---|")
    for method in METHODS:
        first = statistics.median(timings[(method, 3)])
        refit = statistics.median(timings[(method, 1)])
        print(f"| {method} | {first:.1f} | {refit:.1f} | {refit / knn_refit:.0f}x |")


if __name__ == "__main__":
    main()
