"""The load generator's clients and figures: the issue's mix of reads, suggestions and writes.

Each client is a closed loop (the next request once the last one answered, no think time), as
a coder clicking through a review screen would be at its most impatient: half reads (the
project, a page of exemplars, the transcripts, the decision log, the project list), a third
suggestions for one to five new sentences, the rest writes (one or two new coded exemplars,
or a decision on a new sentence; a client holding more than ten exemplars of its own deletes
its oldest instead, and decisions recode a pool of 200 sentences, so the project keeps its
size and a soak shows memory, not data, growing). Sentences are AnnoMI therapist turns the
seeded project does not hold; those suggested or added as exemplars get a unique tag (such as
" (3.17)"), so the model embeds every one of them and none comes from the embedding cache.
A 503 with Retry-After is honoured: the client waits as told, then goes on.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import httpx

PROJECT = "load"
READ_SHARE = 0.5
SUGGEST_SHARE = 0.33  # the rest are writes
MOST_RETRY_WAIT = 5.0
KEPT_PER_CLIENT = 10  # beyond this many added exemplars, a client's next write deletes one
DECIDED_POOL = 200  # decisions recode these sentences only (a later one replaces an exemplar)


@dataclass(frozen=True)
class Corpus:
    """Coded therapist turns to seed the project with, and others to send while loading."""

    seed: list[dict[str, Any]]
    fresh: list[dict[str, Any]]


@dataclass
class Outcome:
    route: str
    status: int  # 0: no answer (timeout or connection error)
    seconds: float
    retry_after: str | None = None
    error: str = ""
    ids: list[int] = field(default_factory=list)  # of the exemplars a POST added


@dataclass
class Tally:
    """Everything the clients saw, for the table."""

    outcomes: list[Outcome] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    ended: float = 0.0

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    def statuses(self) -> Counter[int]:
        return Counter(outcome.status for outcome in self.outcomes)

    def server_errors(self) -> int:
        """5xx other than the overload's 503 with Retry-After (which is the service working)."""
        return sum(
            outcome.status >= 500 and not (outcome.status == 503 and outcome.retry_after)
            for outcome in self.outcomes
        )

    def no_answer(self) -> int:
        """Timeouts and dropped connections: what the service must never cause."""
        return sum(outcome.status == 0 for outcome in self.outcomes)

    def refused(self) -> int:
        return sum(outcome.status == 503 and bool(outcome.retry_after) for outcome in self.outcomes)

    def answered_per_second(self) -> float:
        done = sum(200 <= outcome.status < 300 for outcome in self.outcomes)
        return done / self.seconds if self.seconds else 0.0

    def table(self) -> str:
        """Per-route latency percentiles (answered requests only) and statuses."""
        by_route: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            by_route[outcome.route].append(outcome)
        lines = [f"{'route':<22}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses"]
        for route in sorted(by_route):
            lines.append(_row(route, by_route[route]))
        lines.append(_row("ALL", self.outcomes))
        lines.append(
            f"{self.seconds:.1f} s, {len(self.outcomes)} requests, "
            f"{self.answered_per_second():.1f} answered (2xx)/s, "
            f"5xx (not overload): {self.server_errors()}, no answer: {self.no_answer()}, "
            f"503+Retry-After: {self.refused()}"
        )
        return "\n".join(lines)


def _row(route: str, outcomes: list[Outcome]) -> str:
    latencies = [o.seconds * 1000 for o in outcomes if 200 <= o.status < 300]
    p50, p95, p99 = percentiles(latencies)
    statuses = ",".join(f"{s}:{n}" for s, n in sorted(Counter(o.status for o in outcomes).items()))
    return f"{route:<22}{len(outcomes):>7}{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}  {statuses}"


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 (NaN when there is nothing to measure)."""
    if len(values) < 2:
        only = values[0] if values else float("nan")
        return only, only, only
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def annomi_corpus(seed_count: int) -> Corpus:
    """AnnoMI therapist turns (codes of the shipped annomi-therapist codebook), shuffled."""
    from codebook.datasets import load_annomi

    frame = load_annomi("therapist")
    rows = [
        {
            "transcript_id": f"annomi-{row.transcript_id}",
            "unit_id": str(row.unit_id),
            "text": str(row.text),
            "codes": sorted(row.codes),
            "speaker": "therapist",
            "previous_text": str(row.previous_text),
        }
        for row in frame.itertuples()
    ]
    random.Random(0).shuffle(rows)
    return Corpus(seed=rows[:seed_count], fresh=rows[seed_count:])


class Client:
    """One closed-loop client; ``number`` keeps its writes' unit ids apart from the others'."""

    def __init__(self, http: httpx.AsyncClient, corpus: Corpus, number: int, tally: Tally):
        self.http = http
        self.corpus = corpus
        self.number = number
        self.tally = tally
        self.random = random.Random(number)
        self.sent = 0
        self.tagged = 0
        self.added: deque[int] = deque()  # ids of the exemplars this client added, oldest first

    async def run(self, until: float) -> None:
        while time.perf_counter() < until:
            route, method, url, body = self._next_request()
            outcome = await self._send(route, method, url, body)
            self.tally.outcomes.append(outcome)
            if route == "POST exemplars" and outcome.status == 201:
                self.added.extend(outcome.ids)
            if outcome.status == 503 and outcome.retry_after:
                await asyncio.sleep(min(float(outcome.retry_after), MOST_RETRY_WAIT))

    def _fresh(self, count: int) -> list[dict[str, Any]]:
        start = self.random.randrange(len(self.corpus.fresh))
        return [self.corpus.fresh[(start + i) % len(self.corpus.fresh)] for i in range(count)]

    def _unique(self, text: str) -> str:
        self.tagged += 1
        return f"{text} ({self.number}.{self.tagged})"

    def _next_request(self) -> tuple[str, str, str, dict[str, Any] | None]:
        draw = self.random.random()
        base = f"/v1/projects/{PROJECT}"
        if draw < READ_SHARE:
            reads = [
                ("GET project", base),
                ("GET exemplars", f"{base}/exemplars?limit=50"),
                ("GET transcripts", f"{base}/transcripts"),
                ("GET decisions", f"{base}/decisions?limit=20"),
                ("GET projects", "/v1/projects"),
            ]
            route, url = self.random.choice(reads)
            return route, "GET", url, None
        if draw < READ_SHARE + SUGGEST_SHARE:
            sentences = [
                self._unique(row["text"]) for row in self._fresh(self.random.randint(1, 5))
            ]
            return "POST suggestions", "POST", f"{base}/suggestions", {"sentences": sentences}
        self.sent += 1
        if len(self.added) > KEPT_PER_CLIENT:
            # The project stays the same size, so a soak shows memory, not data, growing.
            return "DELETE exemplar", "DELETE", f"{base}/exemplars/{self.added.popleft()}", None
        if self.random.random() < 0.5:
            row = self.random.choice(self.corpus.fresh[:DECIDED_POOL])
            decision = {"action": "change", "coder": f"c{self.number}", "text": row["text"]}
            decision |= {"codes": row["codes"], "previous_text": row["previous_text"]}
            return "POST decisions", "POST", f"{base}/decisions", decision
        rows = [
            {
                **row,
                "text": self._unique(row["text"]),
                "transcript_id": f"load-{self.number}",
                "unit_id": f"{self.sent}-{i}",
            }
            for i, row in enumerate(self._fresh(self.random.randint(1, 2)))
        ]
        return "POST exemplars", "POST", f"{base}/exemplars", {"exemplars": rows}

    async def _send(
        self, route: str, method: str, url: str, body: dict[str, Any] | None
    ) -> Outcome:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, json=body)
        except httpx.HTTPError as error:
            return Outcome(route, 0, time.perf_counter() - started, error=type(error).__name__)
        seconds = time.perf_counter() - started
        outcome = Outcome(route, response.status_code, seconds, response.headers.get("retry-after"))
        if route == "POST exemplars" and response.status_code == 201:
            outcome.ids = list(response.json()["ids"])
        return outcome


async def run_clients(
    base_url: str, corpus: Corpus, clients: int, seconds: float, timeout: float, first: int = 0
) -> Tally:
    """``clients`` closed-loop clients for ``seconds``; every request bounded by ``timeout``.
    Clients are numbered from ``first`` (a later wave on the same server must not reuse the
    unit ids of an earlier one's)."""
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as http:
        until = time.perf_counter() + seconds
        numbers = range(first, first + clients)
        workers = [Client(http, corpus, number, tally).run(until) for number in numbers]
        await asyncio.gather(*workers)
    tally.ended = time.perf_counter()
    return tally
