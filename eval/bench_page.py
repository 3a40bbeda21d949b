"""Benchmark: the review page's latency (issue 17), over HTTP against a real service.

The service runs as ``python -m service.cli.serve`` in a subprocess with its own data folder
(eval never imports service), loaded through the API with ``--exemplars`` coded sentences (20
codes, as eval/bench_service.py) and one transcript of ``--sentences`` sentences. A page
session is opened as a browser would (loopback, no keys), then:

- page open: ``GET`` the transcript's review page, which suggests codes for every sentence
  (the list) and the first one's evidence, rendered; the first open embeds the transcript (the
  embedding cache keeps it), the next ``--opens`` are timed "with suggestions already
  computed": the transcript's embeddings cached, the coder's suggestions made anew;
- decision round trip: ``POST`` a decision (accept, or one code toggled) as htmx sends it, and
  get back the next sentence's updated suggestions with evidence, then ``GET`` the progress
  counts, which the answer's ``HX-Trigger: decided`` has the page fetch, ``--decisions`` times
  (the progress part is also reported alone).

``--encoder hashing`` uses the deterministic test encoder (the hook tests use): it measures the
page, the store and the coder, not the model; ``--encoder model`` uses the configured model
(onnx by default), which embeds every exemplar first (minutes on 2 cores for 10,000).

Run: ``.venv/bin/python -m eval.bench_page [--exemplars 10000] [--sentences 300]
[--opens 10] [--decisions 40] [--encoder model|hashing]``.
Targets: page open <= 1 s, decision round trip <= 300 ms, at 10,000 exemplars.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from eval.bench_service import Server, coded_rows, load_service
from eval.bench_suggest import corpus_texts

_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s+")
OPEN_TARGET_S = 1.0
DECISION_TARGET_S = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def transcript_text(count: int) -> str:
    """A plain-text interview of about ``count`` sentences (each turn's first sentence): an
    interviewer and a participant taking turns."""
    texts = [_FIRST_SENTENCE.split(text.strip())[0] for text in corpus_texts(count, 50_000)]
    lines = [f"{'I' if n % 4 == 0 else 'P1'}: {text}" for n, text in enumerate(texts)]
    return "\n".join(lines) + "\n"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise SystemExit("the page has no CSRF token: is the review page mounted?")
    return found.group(1)


def timed(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def summary(name: str, seconds: list[float], target: float) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    verdict = "meets" if p95 <= target else "MISSES"
    return (
        f"{name}: p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms over {len(ordered)} ({verdict} <= {target * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exemplars", type=int, default=10_000)
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--opens", type=int, default=10)
    parser.add_argument("--decisions", type=int, default=40)
    parser.add_argument("--encoder", choices=["model", "hashing"], default="model")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-page-"))
    extra = {"INTERCODER_TEST_ENCODER": "hashing"} if args.encoder == "hashing" else {}
    started = time.perf_counter()
    server = Server(work / "service", free_port(), extra)
    try:
        with httpx.Client(base_url=server.url, timeout=1200) as client:
            rows = coded_rows(args.exemplars)
            if args.encoder == "hashing":
                # the test encoder gives no vector to a text without a word it hashes
                rows = [{**row, "text": f"{row['text']} unit{n}"} for n, row in enumerate(rows)]
            load_service(client, rows)
            upload = client.post(
                "/v1/projects/bench/transcripts",
                files={"file": ("interview.txt", transcript_text(args.sentences).encode())},
            )
            upload.raise_for_status()
            sentences = upload.json()["sentence_count"]
            print(
                f"loaded {args.exemplars:,} exemplars and a {sentences}-sentence transcript "
                f"({args.encoder} encoder) in {time.perf_counter() - started:.0f} s"
            )
            csrf = csrf_of(client.get("/page/", follow_redirects=True).text)
            review = "/page/projects/bench/transcripts/interview"

            def open_page() -> None:
                client.get(review).raise_for_status()

            print(f"first open (embeds the transcript): {timed(open_page) * 1000:.0f} ms")
            opens = [timed(open_page) for _ in range(args.opens)]
            headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
            decisions: list[float] = []
            progresses: list[float] = []
            for index in range(min(args.decisions, sentences - 1)):
                body = (
                    {"action": "accept", "next": str(index + 1)}
                    if index % 2 == 0
                    else {"action": "toggle", "code": f"c{index % 20}"}
                )

                def decide(index: int = index, body: dict[str, str] = body) -> None:
                    url = f"{review}/sentences/{index}/decision"
                    answer = client.post(url, data=body, headers=headers)
                    answer.raise_for_status()
                    if answer.headers.get("HX-Trigger") != "decided":
                        raise SystemExit(f"decision {index} was not saved: {answer.text[:200]}")

                def progress() -> None:
                    client.get(f"{review}/progress", headers=headers).raise_for_status()

                decided = timed(decide)
                progresses.append(timed(progress))
                decisions.append(decided + progresses[-1])
            print(summary("page open", opens, OPEN_TARGET_S))
            print(summary("decision round trip (with progress)", decisions, DECISION_TARGET_S))
            print(summary("  of which progress", progresses, DECISION_TARGET_S))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
