"""Benchmark: how long a coder waits for the service to learn, over HTTP.

For a project on the shipped 75-code interview codebook with N coded exemplars, the service
(``python -m service.cli.serve`` in a subprocess, with the bundled model) answers:

- the first suggestion: the project's first calibrated fit of the method;
- then, repeatedly, a coder's decision (``POST .../decisions``: a changed coding becomes an
  exemplar) followed by the next suggestion (``POST .../suggestions``), which must already
  count that exemplar (``exemplar_count``). Their sum is the time from accepting a suggestion
  to seeing suggestions from the updated model: the store's write, the snapshot of the project,
  the head's warm-started update, the one search of the project's index and the model's
  embedding of both sentences.

Exemplars: AnnoMI and SwDA utterances when ../shared is there (else generated sentences) with
synthetic interview codes (one each, a second for a fifth of them, grouped in 50 transcripts),
uploaded once per size. eval never imports the service: it talks to it over HTTP only.

Run: ``.venv/bin/python -m eval.bench_learn [--sizes 1000,10000,50000] [--decisions 5]
[--method linear]``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from codebook.loader import load_codebook
from eval.bench_service import Server
from eval.bench_suggest import corpus_texts

GROUPS = 50
UPLOAD = 2_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def coded_rows(count: int, seed: int = 0) -> list[dict[str, Any]]:
    codes = load_codebook("interview").codable_ids
    rng = np.random.default_rng(seed)
    rows = []
    for i, text in enumerate(corpus_texts(count, offset=0)):
        chosen = {codes[rng.integers(len(codes))]}
        if rng.random() < 0.2:
            chosen.add(codes[rng.integers(len(codes))])
        rows.append(
            {"transcript_id": f"t{i % GROUPS}", "unit_id": str(i), "text": text,
             "codes": sorted(chosen)}
        )  # fmt: skip
    return rows


def suggest(client: httpx.Client, method: str, text: str) -> dict[str, Any]:
    body = {"sentences": [text], "method": method}
    response = client.post("/v1/projects/bench/suggestions", json=body, timeout=600)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def decide_then_suggest(client: httpx.Client, method: str, turn: int, expected: int) -> float:
    started = time.perf_counter()
    decision = {
        "action": "change",
        "coder": "ana",
        "text": f"Somebody could tamper with the labels we train on, case {turn}.",
        "codes": ["A.1"],
        "method": method,
    }
    client.post("/v1/projects/bench/decisions", json=decision).raise_for_status()
    answer = suggest(client, method, f"Could an attacker poison our data, case {turn}?")
    seconds = time.perf_counter() - started
    if answer["exemplar_count"] != expected:
        raise SystemExit(f"the suggestion did not count the decision: {answer['exemplar_count']}")
    return seconds


def measure(count: int, method: str, decisions: int) -> tuple[float, float, float]:
    rows = coded_rows(count)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), free_port())
        try:
            with httpx.Client(base_url=server.url, timeout=600) as client:
                project = {"id": "bench", "shipped_codebook": "interview"}
                client.post("/v1/projects", json=project).raise_for_status()
                for start in range(0, count, UPLOAD):
                    batch = {"exemplars": rows[start : start + UPLOAD]}
                    client.post("/v1/projects/bench/exemplars", json=batch).raise_for_status()
                started = time.perf_counter()
                suggest(client, method, "We never thought anyone would attack our model.")
                first = time.perf_counter() - started
                learns = [
                    decide_then_suggest(client, method, turn, count + turn + 1)
                    for turn in range(decisions)
                ]
        finally:
            server.stop()
    return first, statistics.median(learns), max(learns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--decisions", type=int, default=5)
    parser.add_argument("--method", default="linear")
    args = parser.parse_args()
    print(f"interview codebook, method {args.method}, {args.decisions} decisions a size, HTTP")
    print("| exemplars | first suggestion: calibrated fit (s) | decision + next suggestion, "
          "median (s) | worst (s) |")  # fmt: skip
    print("|---|---|---|---|")
    for size in (int(value) for value in args.sizes.split(",")):
        first, median, worst = measure(size, args.method, args.decisions)
        print(f"| {size:,} | {first:.2f} | {median:.3f} | {worst:.3f} |", flush=True)


if __name__ == "__main__":
    main()
