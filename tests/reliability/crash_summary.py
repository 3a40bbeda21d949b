"""The figures of a crash run (``tests.reliability.crash``), and every problem it found."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from tests.reliability.crash_workload import WRITES

_KILLED_DURING = {
    "suggestion": "a suggestion (its coder refits)",
    "batch": "a batch request",
    "start-up": "start-up (before ready)",
}
"""What a kind of request in flight at the kill means, where its name does not say it."""


@dataclass
class CrashSummary:
    """The figures of a run, and every problem found."""

    cycles: int = 0
    acknowledged: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    half_applied: list[str] = field(default_factory=list)
    index: list[str] = field(default_factory=list)
    rebuild_checks: int = 0
    rebuild_mismatches: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    writer_errors: list[str] = field(default_factory=list)
    tracebacks: int = 0
    hung_writers: int = 0
    failed_starts: list[str] = field(default_factory=list)
    restart_seconds: list[float] = field(default_factory=list)
    kills_during: Counter[str] = field(default_factory=Counter)
    other_answers: Counter[str] = field(default_factory=Counter)

    @property
    def passed(self) -> bool:
        return not self.problems() and not self.tracebacks and not self.hung_writers

    def figures(self) -> list[tuple[str, str]]:
        writes = sum(self.acknowledged[kind] for kind in WRITES)
        by_kind = ", ".join(f"{kind} {self.acknowledged[kind]}" for kind in WRITES)
        reads = ", ".join(f"{k} {self.acknowledged[k]}" for k in ("suggestion", "batch"))
        seconds = self.restart_seconds or [0.0]
        during = ", ".join(
            f"{_KILLED_DURING.get(k, k)} {n}" for k, n in sorted(self.kills_during.items())
        )
        return [
            ("kill -9 cycles", str(self.cycles)),
            ("acknowledged writes", f"{writes} ({by_kind})"),
            ("acknowledged reads that refit", reads),
            ("lost", str(len(self.lost))),
            ("half-applied", str(len(self.half_applied))),
            ("index out of step", str(len(self.index))),
            (
                "suggestions unlike a fresh rebuild's",
                f"{len(self.rebuild_mismatches)} of {self.rebuild_checks} checks",
            ),
            ("5xx answers", str(len(self.server_errors))),
            ("server tracebacks", str(self.tracebacks)),
            ("writers hung / failed", f"{self.hung_writers} / {len(self.writer_errors)}"),
            ("servers that failed to start", str(len(self.failed_starts))),
            (
                "restart to ready s (median/max)",
                f"{statistics.median(seconds):.2f} / {max(seconds):.2f}",
            ),
            ("kills landing during", during or "-"),
            (
                "other 4xx answers",
                ", ".join(f"{k} x{n}" for k, n in sorted(self.other_answers.items())) or "-",
            ),
        ]

    def problems(self) -> list[str]:
        return [
            *self.lost,
            *self.half_applied,
            *self.index,
            *self.rebuild_mismatches,
            *self.server_errors,
            *self.writer_errors,
            *self.failed_starts,
        ]
