"""What operators see: Prometheus metrics and JSON logs (the one log line per request is
written by ``service.api.request_log``).

Each app has its own Prometheus registry, so several apps in one process (the tests) never
collide over metric names. Log lines are JSON objects on stderr, one per event, for log
collectors; a request's line carries the ``request_id`` that problem responses call
``correlation_id`` and that the ``X-Request-ID`` response header repeats.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

logger = logging.getLogger("intercoder.service")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "intercoder_request_duration_seconds",
            "Time to answer a request, by route template, method and status.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.suggestions = Counter(
            "intercoder_suggestions_served",
            "Units (sentences) that got code suggestions, by method.",
            ["method"],
            registry=self.registry,
        )
        self.encoder_batch_requests = Histogram(
            "intercoder_encoder_batch_requests",
            "Requests whose texts one model call embedded together (micro-batching).",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.requests_waiting = Gauge(
            "intercoder_requests_waiting",
            "Requests other than reads waiting for a place to run (service.api.admission).",
            registry=self.registry,
        )
        self.overloaded = Counter(
            "intercoder_requests_refused_overloaded",
            "Requests answered 503 because the queue of requests was full.",
            registry=self.registry,
        )
        self.exemplars = Gauge(
            "intercoder_project_exemplars",
            "Coded exemplars stored per project.",
            ["project"],
            registry=self.registry,
        )

    def set_exemplar_count(self, project_id: str, count: int) -> None:
        self.exemplars.labels(project=project_id).set(count)

    def forget_project(self, project_id: str) -> None:
        with contextlib.suppress(KeyError):  # never counted
            self.exemplars.remove(project_id)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {k: v for k, v in vars(record).items() if k not in self._STANDARD}
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str) -> None:
    """JSON lines on stderr for intercoder's loggers and uvicorn's (whose access log is off:
    the request-log middleware writes one richer line per request instead)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("intercoder", "uvicorn", "uvicorn.error"):
        target = logging.getLogger(name)
        target.handlers = [handler]
        target.setLevel(level.upper())
        target.propagate = False
