"""Load, soak and overload of a real ``intercoder serve`` with the real default model.

One command::

    python -m tests.reliability.load --clients 20 --seconds 60             # load
    python -m tests.reliability.load --clients 20 --seconds 600 --mode soak
    python -m tests.reliability.load --clients 200 --seconds 30 --mode overload --queue 8
    python -m tests.reliability.load --clients 20 --seconds 60 --compare   # before/after

Each run starts the service in a subprocess (``tests.test_service_support.ServerProcess``) on
a temporary data folder with the bundled model on its default backend, seeds a project with
AnnoMI therapist turns (``--exemplars``, default 400; ../shared must be there), runs the
clients of ``tests.reliability.load_mix`` and prints per-route p50/p95/p99, throughput, the
statuses, and the server's resident memory and open files at the start and end (a soak
samples them every ``--sample`` seconds). ``overload`` runs the clients against a small
queue (``--queue``), then drops to two clients for ``--recover`` seconds: every one of those
requests must be answered 2xx. ``--compare`` runs the same load twice in one go, first with
micro-batching off (INTERCODER_MICRO_BATCHING=false), then on, and prints the ratios
(``--before-code DIR``: the first server runs another checkout's code instead).
Exit status 1 when a 5xx other than an overload's 503, or a client timeout, was seen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.reliability.load_mix import (
    PROJECT,
    Corpus,
    Tally,
    annomi_corpus,
    percentiles,
    run_clients,
)
from tests.reliability.suite import figure_line
from tests.test_service_support import ServerProcess

START_TIMEOUT = 300.0  # loading the model and opening the store, on a busy machine


@dataclass(frozen=True)
class Footprint:
    """The server's resident memory and open file descriptors at one moment."""

    seconds: float
    rss_mb: float
    open_files: int

    def __str__(self) -> str:
        return f"t={self.seconds:6.0f} s  RSS {self.rss_mb:7.1f} MB  open files {self.open_files}"


def footprint(pid: int, since: float) -> Footprint:
    """From /proc (Linux): VmRSS and the entries of fd/."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    rss_kb = int(match.group(1)) if match else 0
    open_files = len(os.listdir(f"/proc/{pid}/fd"))
    return Footprint(time.perf_counter() - since, rss_kb / 1024, open_files)


@dataclass
class RunResult:
    """One run's figures: the clients' tally, the server's footprint over time, its batching."""

    label: str
    tally: Tally
    footprints: list[Footprint] = field(default_factory=list)
    requests_per_model_call: float = float("nan")
    exemplars: tuple[int, int] = (0, 0)  # the project's, at the start and end of the load
    recovery: Tally | None = None

    def report(self) -> str:
        lines = [f"== {self.label}", self.tally.table()]
        if self.footprints:
            lines.append(f"server at start: {self.footprints[0]}")
            lines.append(f"server at end:   {self.footprints[-1]}")
            peak = max(sample.rss_mb for sample in self.footprints)
            lines.append(f"RSS peak {peak:.1f} MB over {len(self.footprints)} samples")
        lines.append(f"requests per model call (mean): {self.requests_per_model_call:.2f}")
        lines.append(f"project exemplars at start and end: {self.exemplars}")
        if self.recovery is not None:
            lines.append("-- recovery (load dropped to 2 clients):")
            lines.append(self.recovery.table())
        return "\n".join(lines)

    def figures(self) -> list[str]:
        """The run's figures as the suite runner's ``RESULT name: value`` lines."""
        answered = [o.seconds for o in self.tally.outcomes if 200 <= o.status < 300]
        p50, p95, p99 = (1000 * value for value in percentiles(answered))
        name = re.sub(r"[^A-Za-z0-9]+", " ", self.label).strip()
        values = {
            "answered per second": f"{self.tally.answered_per_second():.1f}",
            "p50 p95 p99 ms (2xx)": f"{p50:.0f} / {p95:.0f} / {p99:.0f}",
            "5xx (not overload)": str(self.tally.server_errors()),
            "503 overloaded": str(self.tally.refused()),
            "no answer": str(self.tally.no_answer()),
        }
        if self.footprints:
            first, last = self.footprints[0], self.footprints[-1]
            values["RSS MB start end"] = f"{first.rss_mb:.0f} / {last.rss_mb:.0f}"
            values["open files start end"] = f"{first.open_files} / {last.open_files}"
        return [figure_line(f"{name} {key}", value) for key, value in values.items()]

    def failures(self) -> list[str]:
        """What breaks the service's promises (never latencies: those are figures)."""
        found = []
        for name, tally in (("load", self.tally), ("recovery", self.recovery)):
            if tally is None:
                continue
            if tally.server_errors():
                found.append(f"{self.label} {name}: {tally.server_errors()} 5xx")
            if tally.no_answer():
                found.append(f"{self.label} {name}: {tally.no_answer()} requests without answer")
        if self.recovery is not None and self.recovery.refused():
            found.append(f"{self.label}: {self.recovery.refused()} refused after the load dropped")
        return found


@contextmanager
def seeded_server(
    root: Path, label: str, corpus: Corpus, env: dict[str, str | None]
) -> Iterator[ServerProcess]:
    """A fresh data folder (sharing one ONNX export), the service on it, the project seeded."""
    folder = re.sub(r"[^A-Za-z0-9.-]+", "-", label).strip("-")
    data_dir = root / folder
    data_dir.mkdir()
    (data_dir / "onnx").symlink_to(root / "onnx", target_is_directory=True)
    settings = {"INTERCODER_TEST_ENCODER": None, "INTERCODER_LOG_LEVEL": "warning"}
    server = ServerProcess(data_dir, root / f"{folder}.log", env={**settings, **env})
    server.start(timeout=START_TIMEOUT)
    try:
        seed_project(server.url, corpus)
        yield server
    finally:
        server.stop()


def export_model(onnx_dir: Path) -> None:
    """Export the model to ONNX here, once, so that no server pays for it (time and memory)
    and the runs of a comparison start alike."""
    from models.encoder import load_encoder
    from service.settings import Settings

    backend = Settings(data_dir=onnx_dir.parent).encoder_backend
    if backend != "torch":
        load_encoder(backend=backend, cache_dir=onnx_dir)


def seed_project(url: str, corpus: Corpus) -> None:
    with httpx.Client(base_url=url, timeout=600) as client:
        created = client.post(
            "/v1/projects", json={"id": PROJECT, "shipped_codebook": "annomi-therapist"}
        )
        if created.status_code != 201:
            raise RuntimeError(
                f"could not create the project: {created.status_code} {created.text}"
            )
        added = client.post(f"/v1/projects/{PROJECT}/exemplars", json={"exemplars": corpus.seed})
        if added.status_code != 201:
            raise RuntimeError(f"could not seed exemplars: {added.status_code} {added.text}")
        transcript = "\n".join(f"therapist: {row['text']}" for row in corpus.fresh[:40])
        files = {"file": ("session.txt", transcript.encode(), "text/plain")}
        uploaded = client.post(f"/v1/projects/{PROJECT}/transcripts", files=files)
        if uploaded.status_code != 201:
            raise RuntimeError(f"could not upload a transcript: {uploaded.text}")
        warm = client.post(f"/v1/projects/{PROJECT}/suggestions", json={"sentences": ["Hello."]})
        if warm.status_code != 200:  # the first fit, so that the clients meet a warm service
            raise RuntimeError(f"the first suggestion failed: {warm.status_code} {warm.text}")


def batching_ratio(url: str) -> float:
    """Mean requests per model call, from the service's own metrics."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    total = re.search(r"^intercoder_encoder_batch_requests_sum (\S+)", text, re.MULTILINE)
    calls = re.search(r"^intercoder_encoder_batch_requests_count (\S+)", text, re.MULTILINE)
    if not total or not calls or float(calls.group(1)) == 0:
        return float("nan")
    return float(total.group(1)) / float(calls.group(1))


async def _load_with_samples(
    server: ServerProcess, corpus: Corpus, options: argparse.Namespace, result: RunResult
) -> Tally:
    assert server.process is not None
    pid, since = server.process.pid, time.perf_counter()
    first = exemplar_count(server.url)
    result.footprints.append(footprint(pid, since))
    clients = asyncio.create_task(
        run_clients(server.url, corpus, options.clients, options.seconds, options.timeout)
    )
    while not clients.done():
        await asyncio.wait({clients}, timeout=options.sample)
        result.footprints.append(footprint(pid, since))
        if options.mode == "soak":
            print(result.footprints[-1], flush=True)
    result.exemplars = (first, exemplar_count(server.url))
    return clients.result()


def exemplar_count(url: str) -> int:
    project = httpx.get(f"{url}/v1/projects/{PROJECT}", timeout=60)
    if project.status_code != 200:
        raise RuntimeError(f"could not read the project: {project.status_code} {project.text}")
    return int(project.json()["exemplar_count"])


def run_once(
    root: Path, label: str, corpus: Corpus, options: argparse.Namespace, env: dict[str, str | None]
) -> RunResult:
    """One server, one load (and for overload, the recovery after it)."""
    with seeded_server(root, label, corpus, env) as server:
        result = RunResult(label, Tally())
        result.tally = asyncio.run(_load_with_samples(server, corpus, options, result))
        if options.mode == "overload":
            result.recovery = asyncio.run(
                run_clients(
                    server.url, corpus, 2, options.recover, options.timeout, options.clients
                )
            )
        result.requests_per_model_call = batching_ratio(server.url)
    return result


def run(options: argparse.Namespace) -> list[RunResult]:
    corpus = annomi_corpus(options.exemplars)
    env: dict[str, str | None] = {}
    if options.mode == "overload":
        env["INTERCODER_MAX_ACTIVE_REQUESTS"] = str(options.active)
        env["INTERCODER_MAX_QUEUED_REQUESTS"] = str(options.queue)
    root = options.work_dir or Path(tempfile.mkdtemp(prefix="intercoder-load-"))
    try:
        export_model(root / "onnx")
        if not options.compare:
            return [run_once(root, options.mode, corpus, options, env)]
        before = {**env, "INTERCODER_MICRO_BATCHING": "false"}
        before_label = "before (micro-batching off)"
        if options.before_code is not None:
            # That checkout's service instead of this one's (PYTHONSAFEPATH: not the cwd first).
            before = {**env, "PYTHONSAFEPATH": "1", "PYTHONPATH": str(options.before_code)}
            before_label = f"before (the code in {options.before_code})"
        after = {**env, "INTERCODER_MICRO_BATCHING": "true"}
        return [
            run_once(root, before_label, corpus, options, before),
            run_once(root, "after (micro-batching on)", corpus, options, after),
        ]
    finally:
        if options.keep or options.work_dir:
            print(f"the data folders and server logs are in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def ratios(before: RunResult, after: RunResult) -> str:
    def p95(result: RunResult) -> float:
        answered = [o.seconds for o in result.tally.outcomes if 200 <= o.status < 300]
        return percentiles(answered)[1]

    rate = after.tally.answered_per_second() / max(before.tally.answered_per_second(), 1e-9)
    return (
        f"after/before: p95 {p95(after) / p95(before):.2f}x "
        f"({p95(before) * 1000:.0f} -> {p95(after) * 1000:.0f} ms), "
        f"throughput {rate:.2f}x ({before.tally.answered_per_second():.1f} -> "
        f"{after.tally.answered_per_second():.1f} answered/s)"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--mode", choices=("load", "soak", "overload"), default="load")
    parser.add_argument("--compare", action="store_true", help="micro-batching off, then on")
    parser.add_argument("--exemplars", type=int, default=400, help="seeded coded turns")
    parser.add_argument("--timeout", type=float, default=60, help="a client's request timeout")
    parser.add_argument("--sample", type=float, default=10, help="seconds between RSS samples")
    parser.add_argument("--active", type=int, default=4, help="overload: requests running")
    parser.add_argument("--queue", type=int, default=8, help="overload: requests waiting")
    parser.add_argument("--recover", type=float, default=5, help="overload: seconds after")
    parser.add_argument("--keep", action="store_true", help="keep data folders and logs")
    parser.add_argument(
        "--before-code",
        type=Path,
        help="--compare: run the 'before' server from this checkout (e.g. an earlier commit's "
        "`git archive`) instead of this code with micro-batching off",
    )
    parser.add_argument("--work-dir", type=Path, help="where data folders go (default: a temp)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    results = run(options)
    for result in results:
        print(result.report(), flush=True)
        print("\n".join(result.figures()), flush=True)
    if len(results) == 2:
        print(ratios(*results))
    failures = [failure for result in results for failure in result.failures()]
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
