"""Crashes: ``kill -9`` cycles of a real ``intercoder serve`` under concurrent writers.

    python -m tests.reliability.crash [--cycles 50] [--writers 4] [--keep DIR] ...

A server subprocess (the deterministic hashing test encoder, a temporary data directory, the
index saver running every 0.05 s so kills land during saves) takes a random mix of writes from
several writers (``crash_workload``); after a random delay it gets SIGKILL, no shutdown code
runs, and it is started again. After each restart the database and the saved indexes are checked
(``crash_checks``): no acknowledged write lost, nothing half-applied, every index in step with
the database. Every few cycles, and after the last, the suggestions for fixed probe sentences are
compared with those after the indexes are deleted and rebuilt from the database.

Prints the figures as ``RESULT name: value`` lines (the suite's contract, see
``tests.reliability``) and exits 1 when anything was lost, half-applied or out of step.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from models.index_store import FAISS_FILE, JSON_FILE
from service.store.project_index import INDEX_FOLDER, STATE_FILE
from tests.reliability.crash_checks import (
    check_acknowledged,
    check_indexes,
    check_leftovers,
    check_server_counts,
    check_whole,
    read_database,
)
from tests.reliability.crash_summary import CrashSummary
from tests.reliability.crash_workload import (
    PROJECT,
    REFI_PREFIX,
    WRITES,
    ImportCounts,
    Ledger,
    Writer,
)
from tests.reliability.suite import figure_line
from tests.test_refi_cli import study_qdpx
from tests.test_service_support import CODED_ROWS, SMALL_CODEBOOK, ServerProcess, checked

PROBES = (
    "Someone could poison the training data.",
    "Attackers craft inputs to fool it.",
    "We retrain the model weekly.",
    "Thanks for having me.",
)
PROBE_METHODS = ("linear", "knn", "prototype")


@dataclass(frozen=True)
class CrashOptions:
    cycles: int = 50
    writers: int = 4
    kill_after: tuple[float, float] = (1.0, 4.0)
    """Seconds of writing before the kill, drawn uniformly between the two."""
    seed_exemplars: int = 500
    rebuild_every: int = 5
    index_save_seconds: float = 0.05
    startup_kills: float = 0.2
    """The share of restarts that are killed too, before the server is ready (while it opens
    the store and rebuilds the indexes the last kill left out of step)."""
    save_kills: float = 0.3
    """The share of kills aimed at an index save: sent the moment a save's files appear."""
    seed: int = 0


class CrashRun:
    """One run: a server, its data directory, the writers' ledger, and the summary."""

    def __init__(self, options: CrashOptions, work_dir: Path) -> None:
        self.options = options
        self.data_dir = work_dir / "data"
        self.database = self.data_dir / "intercoder.sqlite3"
        env = {"INTERCODER_INDEX_SAVE_SECONDS": str(options.index_save_seconds)}
        self.server = ServerProcess(self.data_dir, work_dir / "server.log", env=env)
        self.ledger = Ledger()
        self.summary = CrashSummary()
        self.rng = random.Random(options.seed)
        self.qdpx = study_qdpx()
        self.reference = (ImportCounts(0, 0, 0), 0)

    def run(self, report: Callable[[str], None] = print) -> CrashSummary:
        self.server.start()
        try:
            self._set_up()
            for cycle in range(1, self.options.cycles + 1):
                self._cycle(cycle)
                report(self._progress(cycle))
                if cycle % self.options.rebuild_every == 0 or cycle == self.options.cycles:
                    self._compare_with_a_rebuild()
        finally:
            self.server.stop()
        self.summary.acknowledged = self.ledger.acknowledged
        self.summary.server_errors = self.ledger.server_errors
        self.summary.writer_errors = self.ledger.writer_errors
        self.summary.other_answers = self.ledger.other_answers
        self.summary.tracebacks = self.server.log_path.read_text(errors="replace").count(
            "Traceback"
        )
        return self.summary

    def _set_up(self) -> None:
        url = self.server.url
        checked(
            httpx.post(
                f"{url}/v1/projects", json={"id": PROJECT, "codebook": SMALL_CODEBOOK}, timeout=60
            ),
            201,
        )
        rows = [
            {
                **CODED_ROWS[i % len(CODED_ROWS)],
                "text": f"seed {i} {CODED_ROWS[i % len(CODED_ROWS)]['text']}",
            }
            for i in range(self.options.seed_exemplars)
        ]
        for start in range(0, len(rows), 250):
            batch = rows[start : start + 250]
            added = checked(
                httpx.post(
                    f"{url}/v1/projects/{PROJECT}/exemplars", json={"exemplars": batch}, timeout=120
                ),
                201,
            )
            self.ledger.exemplar_texts.update(
                zip(added["ids"], (r["text"] for r in batch), strict=True)
            )
            self.ledger.acknowledged["exemplar_add"] += 1
        reference_id = f"{REFI_PREFIX}reference"
        imported = checked(
            httpx.post(
                f"{url}/v1/projects/import",
                files={"file": ("study.qdpx", self.qdpx)},
                data={"project_id": reference_id},
                timeout=60,
            ),
            201,
        )
        counts = ImportCounts(imported["transcripts"], imported["sentences"], imported["exemplars"])
        self.ledger.imports[reference_id] = counts
        self.ledger.acknowledged["refi_import"] += 1
        decisions = checked(
            httpx.get(
                f"{url}/v1/projects/{reference_id}/decisions", params={"limit": 500}, timeout=60
            )
        )
        self.reference = (counts, len(decisions["items"]))

    def _cycle(self, cycle: int) -> None:
        stop = threading.Event()
        writers = [
            Writer(self.server.url, self.ledger, n, cycle, self.qdpx, seed=self.rng.getrandbits(32))
            for n in range(self.options.writers)
        ]
        threads = [
            threading.Thread(target=w.run, args=(stop,), name=f"writer-{w.number}") for w in writers
        ]
        for thread in threads:
            thread.start()
        time.sleep(self.rng.uniform(*self.options.kill_after))
        if self.rng.random() < self.options.save_kills:
            self._wait_for_an_index_save(seconds=3.0)
        during = self.ledger.in_flight_now()
        self.server.kill()
        if self._index_save_was_interrupted():
            during.append("index save")
        self.summary.kills_during.update(during)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        self.summary.hung_writers += sum(thread.is_alive() for thread in threads)
        if self.rng.random() < self.options.startup_kills:
            self._kill_during_start_up(cycle)
        started = time.perf_counter()
        self.server.start(timeout=300)
        self.summary.restart_seconds.append(time.perf_counter() - started)
        self.summary.cycles = cycle
        self._check(cycle)

    def _kill_during_start_up(self, cycle: int) -> None:
        try:
            self.server.start(timeout=self.rng.uniform(0.3, 3.0))
        except RuntimeError as error:
            assert self.server.process is not None
            if self.server.process.poll() is not None:  # it stopped by itself: a finding
                self.summary.failed_starts.append(f"cycle {cycle}: {error}")
                return
            self.summary.kills_during["start-up"] += 1  # not ready yet
        self.server.kill()

    def _wait_for_an_index_save(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._index_save_was_interrupted():
            time.sleep(0.0005)

    def _index_save_was_interrupted(self) -> bool:
        """A save leaves temporary files beside the index until it completes."""
        for folder in (self.data_dir / "projects").glob("*"):
            extra = {p.name for p in (folder / INDEX_FOLDER).glob("*")} - {FAISS_FILE, JSON_FILE}
            if extra or any(folder.glob(".state-*")):
                return True
        return False

    def _check(self, cycle: int) -> None:
        stored = read_database(self.database)
        tag = f"cycle {cycle}: "
        self.summary.lost += [tag + p for p in check_acknowledged(stored, self.ledger)]
        self.summary.half_applied += [
            tag + p for p in check_whole(stored, self.ledger, self.reference)
        ]
        self.summary.half_applied += [tag + p for p in check_leftovers(stored, self.data_dir)]
        self.summary.index += [tag + p for p in check_indexes(stored, self.data_dir)]
        self.summary.index += [tag + p for p in check_server_counts(stored, self.server.url)]

    def _compare_with_a_rebuild(self) -> None:
        """Suggestions now, and after every index is deleted and rebuilt from the database."""
        before = _probe(self.server.url)
        self.server.stop()
        # A graceful stop saves every changed index: each must hold the database's exemplars.
        stored = read_database(self.database)
        tag = f"cycle {self.summary.cycles}, after a graceful stop: "
        self.summary.index += [tag + p for p in check_indexes(stored, self.data_dir)]
        # Before any start-up clean-up: a running service leaves no file of a deleted project.
        self.summary.half_applied += [tag + p for p in check_leftovers(stored, self.data_dir)]
        for folder in (self.data_dir / "projects").glob("*"):
            shutil.rmtree(folder / INDEX_FOLDER, ignore_errors=True)
            (folder / STATE_FILE).unlink(missing_ok=True)
        self.server.start(timeout=300)
        after = _probe(self.server.url)
        self.summary.rebuild_checks += 1
        self.summary.rebuild_mismatches += [
            f"cycle {self.summary.cycles}: {method} suggestions differ after a rebuild"
            for method in PROBE_METHODS
            if before[method] != after[method]
        ]

    def _progress(self, cycle: int) -> str:
        acknowledged = sum(self.ledger.acknowledged[kind] for kind in WRITES)
        problems = len(self.summary.problems())
        problems += len(self.ledger.server_errors) + len(self.ledger.writer_errors)
        restart = self.summary.restart_seconds[-1]
        return (
            f"cycle {cycle}/{self.options.cycles}: restart {restart:.2f} s, "
            f"{acknowledged} writes acknowledged so far, {problems} problems"
        )


def _probe(url: str) -> dict[str, Any]:
    body = {"sentences": list(PROBES), "top": 3, "evidence": 5, "k": 10}
    return {
        method: checked(
            httpx.post(
                f"{url}/v1/projects/{PROJECT}/suggestions",
                json={**body, "method": method},
                timeout=120,
            )
        )
        for method in PROBE_METHODS
    }


def _parse(argv: list[str]) -> tuple[CrashOptions, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.crash", description=__doc__.split("\n")[0]
    )
    defaults = CrashOptions()
    parser.add_argument("--cycles", type=int, default=defaults.cycles)
    parser.add_argument("--writers", type=int, default=defaults.writers)
    parser.add_argument(
        "--kill-after", type=float, nargs=2, default=defaults.kill_after, metavar=("MIN", "MAX")
    )
    parser.add_argument("--seed-exemplars", type=int, default=defaults.seed_exemplars)
    parser.add_argument("--rebuild-every", type=int, default=defaults.rebuild_every)
    parser.add_argument("--index-save-seconds", type=float, default=defaults.index_save_seconds)
    parser.add_argument("--startup-kills", type=float, default=defaults.startup_kills)
    parser.add_argument("--save-kills", type=float, default=defaults.save_kills)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--keep", type=Path, help="a folder for the data and the server log, kept afterwards"
    )
    args = parser.parse_args(argv)
    if args.cycles < 1 or args.writers < 1 or args.rebuild_every < 1:
        parser.error("--cycles, --writers and --rebuild-every must be at least 1")
    options = CrashOptions(
        cycles=args.cycles,
        writers=args.writers,
        kill_after=tuple(args.kill_after),
        seed_exemplars=args.seed_exemplars,
        rebuild_every=args.rebuild_every,
        index_save_seconds=args.index_save_seconds,
        startup_kills=args.startup_kills,
        save_kills=args.save_kills,
        seed=args.seed,
    )
    return options, args.keep


def main(argv: list[str] | None = None) -> int:
    options, keep = _parse(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="intercoder-crash-") as temporary:
        work_dir = keep or Path(temporary)
        work_dir.mkdir(parents=True, exist_ok=True)
        summary = CrashRun(options, work_dir).run(report=lambda line: print(line, flush=True))
    for problem in summary.problems()[:50]:
        print(f"problem: {problem}")
    for name, value in summary.figures():
        print(figure_line(name, value))
    return 0 if summary.passed else 1


if __name__ == "__main__":
    sys.exit(main())
