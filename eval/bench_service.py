"""Benchmark: the coding service's suggestion latency as a ratio to the in-process call.

Against 10,000 coded exemplars (AnnoMI utterances when ../shared is there, else generated
sentences; 20 codes, knn), the same run measures, alternating so machine noise hits both alike:

- single-sentence latency, p50 and p99, with 1 and with 16 concurrent clients: ``POST
  /v1/projects/{id}/suggestions`` over HTTP on 127.0.0.1, against the in-process call a library
  user makes (embed the sentence through the embedding cache, then ``suggest``) from as many
  threads;
- a whole transcript: ``POST .../transcripts/{id}/suggestions`` against in-process embedding and
  suggesting of the same sentences.

Every query sentence is new to both embedding caches, so both sides run the model. The service
runs as ``python -m service.cli.serve`` in a subprocess with the bundled model, on the same two
cores as this script; the benchmark talks to it over HTTP only (eval never imports service).

Run: ``.venv/bin/python -m eval.bench_service [--exemplars 10000] [--batch 1000]``.
Target: single-sentence p50 over HTTP <= 1.5x the in-process call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from codebook.loader import build_codebook
from codebook.transcripts import parse_transcript, split_sentences
from eval.bench_suggest import corpus_texts
from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import SentenceTransformerEncoder
from models.exemplars import Exemplars
from models.suggesters import BaseSuggester, make_suggester

CODES = 20
GROUPS = 50
ROUNDS = 4
CALLS_PER_ROUND = 25
CONCURRENT = 16
CALLS_PER_THREAD = 6


def bench_codebook() -> dict[str, Any]:
    return {"name": "bench", "codes": [{"id": f"c{i}", "name": f"code {i}"} for i in range(CODES)]}


def coded_rows(count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    texts = corpus_texts(count, offset=0)
    return [
        {
            "transcript_id": f"g{i % GROUPS}",
            "unit_id": str(i),
            "text": text,
            "codes": [f"c{j}" for j in rng.choice(CODES, size=rng.integers(0, 3), replace=False)],
        }
        for i, text in enumerate(texts)
    ]


class Server:
    """The service in a subprocess on a free port, with its own data folder."""

    def __init__(self, data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> None:
        env = {
            **os.environ,
            "INTERCODER_DATA_DIR": str(data_dir),
            "INTERCODER_LOG_LEVEL": "error",
            **(extra_env or {}),
        }
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the service exited during startup")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.5)
        raise SystemExit("the service did not get ready in 300 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def load_service(client: httpx.Client, rows: list[dict[str, Any]]) -> None:
    created = client.post("/v1/projects", json={"id": "bench", "codebook": bench_codebook()})
    created.raise_for_status()
    for start in range(0, len(rows), 2_000):
        batch = {"exemplars": rows[start : start + 2_000]}
        client.post("/v1/projects/bench/exemplars", json=batch, timeout=600).raise_for_status()


def in_process_suggester(encoder: CachedEncoder, rows: list[dict[str, Any]]) -> BaseSuggester:
    texts = [row["text"] for row in rows]
    exemplars = Exemplars(
        model_id=encoder.model_id,
        vectors=encoder.encode(texts),
        codes=tuple(frozenset(row["codes"]) for row in rows),
        texts=tuple(texts),
        ids=np.arange(len(rows), dtype=np.int64),
        groups=tuple(row["transcript_id"] for row in rows),
    )
    return make_suggester("knn").fit(exemplars, build_codebook(bench_codebook()))


class Queries:
    """Fresh sentences, never asked before by either side (so no cache hit)."""

    def __init__(self, offset: int) -> None:
        self._texts = iter(corpus_texts(20_000, offset=offset))
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return next(self._texts) + f" [{time.perf_counter_ns()}]"


def timed_calls(
    call: Callable[[str], None], queries: Queries, threads: int, calls: int
) -> list[float]:
    """Latencies (s) of ``calls`` calls in each of ``threads`` threads, all running at once."""
    latencies: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        mine = []
        for _ in range(calls):
            text = queries.next()
            started = time.perf_counter()
            call(text)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(np.array(values) * 1000, share))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplars", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000, help="transcript sentences suggested")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    encoder = CachedEncoder(SentenceTransformerEncoder(), EmbeddingCache(work / "inproc.sqlite"))
    rows = coded_rows(args.exemplars)
    suggester = in_process_suggester(encoder, rows)
    server = Server(work / "service", args.port)
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=server.url, timeout=600)
        found: httpx.Client = local.client
        return found

    try:
        load_service(client(), rows)

        def over_http(text: str) -> None:
            response = client().post("/v1/projects/bench/suggestions", json={"sentences": [text]})
            response.raise_for_status()

        def in_process(text: str) -> None:
            suggester.suggest(encoder.encode([text]), [text], encoder.model_id)

        queries = Queries(offset=args.exemplars)
        over_http(queries.next())  # the service fits its suggester on the first request
        in_process(queries.next())
        print_latency_table(over_http, in_process, queries)
        print_batch_table(client(), suggester, encoder, args.batch, args.exemplars)
    finally:
        server.stop()


def print_latency_table(
    over_http: Callable[[str], None], in_process: Callable[[str], None], queries: Queries
) -> None:
    print("| clients | HTTP p50 ms | HTTP p99 ms | in-process p50 ms | in-process p99 ms | "
          "p50 ratio | p99 ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for threads, calls in ((1, CALLS_PER_ROUND), (CONCURRENT, CALLS_PER_THREAD)):
        http: list[float] = []
        local: list[float] = []
        for _ in range(ROUNDS):  # alternate, so load changes hit both sides alike
            http += timed_calls(over_http, queries, threads, calls)
            local += timed_calls(in_process, queries, threads, calls)
        h50, h99 = percentile(http, 50), percentile(http, 99)
        l50, l99 = percentile(local, 50), percentile(local, 99)
        print(f"| {threads} | {h50:.1f} | {h99:.1f} | {l50:.1f} | {l99:.1f} | "
              f"{h50 / l50:.2f} | {h99 / l99:.2f} |")  # fmt: skip


def print_batch_table(
    client: httpx.Client,
    suggester: BaseSuggester,
    encoder: CachedEncoder,
    size: int,
    offset: int,
) -> None:
    """The first ``size`` sentences of a transcript suggested over HTTP and in process; each
    side embeds them anew (the two sides keep separate embedding caches)."""
    http_seconds, local_seconds = [], []
    for repeat in range(3):
        texts = corpus_texts(size, offset + 20_000 + repeat * size)
        body = "".join(f"S{i % 2 + 1}: {text} ({repeat}-{i})\n" for i, text in enumerate(texts))
        name = f"batch-{repeat}"
        split = split_sentences(parse_transcript(body.encode(), "text", name))
        sentences = [sentence.text for sentence in split][:size]
        started = time.perf_counter()
        suggester.suggest(encoder.encode(sentences), sentences, encoder.model_id)
        local_seconds.append(time.perf_counter() - started)
        files = {"file": (f"{name}.txt", body)}
        client.post("/v1/projects/bench/transcripts", files=files).raise_for_status()
        started = time.perf_counter()
        response = client.post(
            f"/v1/projects/bench/transcripts/{name}/suggestions", json={"limit": size}
        )
        response.raise_for_status()
        http_seconds.append(time.perf_counter() - started)
        assert len(response.json()["units"]) == len(sentences)
    http, local = statistics.median(http_seconds), statistics.median(local_seconds)
    print()
    print("| transcript sentences | HTTP s | in-process s | ratio |")
    print("|---|---|---|---|")
    print(f"| {len(sentences):,} | {http:.2f} | {local:.2f} | {http / local:.2f} |")


if __name__ == "__main__":
    main()
