"""Benchmark: how long a coder waits in the service, through the application layer.

For a project on the shipped 75-code interview codebook with N stored exemplars: the first
suggestion (the project's first calibrated fit), then, repeatedly, a coder's decision (an
accepted suggestion becomes an exemplar) followed by the next suggestion, which must already
have learned from it. That second figure is what "interactive" means: the time from accepting
a suggestion to seeing suggestions from the updated model. It includes reading the project's
snapshot from SQLite, the head's warm-started update and one search of the project's index.

Exemplars are the synthetic ones of ``eval.bench_fit`` (384-d, one code each, a second for a
fifth), stored with their vectors; the encoder is the deterministic hashing encoder at 384
dimensions, so the figures are the engine's, not the model's (which adds ~10 ms a sentence).

Run: ``.venv/bin/python -m eval.bench_learn [--sizes 1000,10000,50000] [--decisions 5]
[--method linear]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from codebook.loader import load_codebook
from eval.bench_fit import synthetic_exemplars
from models.context import UnitContext
from models.testing import HashingEncoder
from service.app.deciding import Decision, record_decision
from service.app.lifecycle import close_workspace, open_workspace
from service.app.projects import create_project
from service.app.suggesting import suggest_for_units
from service.app.workspace import Workspace
from service.metrics import Metrics
from service.settings import Settings
from service.store.exemplars import NewExemplar, insert_exemplars
from service.store.projects import bump_change_counter

PROJECT = "bench"
QUERY = [UnitContext("An attacker could poison the data we train on.", "P1")]


def stored_project(data_dir: Path, count: int) -> None:
    """A project with ``count`` synthetic exemplars in the store (the index follows at open)."""
    codebook = load_codebook("interview")
    exemplars = synthetic_exemplars(codebook, count)
    workspace, saver = open_workspace(Settings(data_dir=data_dir), HashingEncoder(384), Metrics())
    try:
        create_project(workspace, PROJECT, "bench", codebook)
        rows = [
            NewExemplar(
                transcript_id=exemplars.groups[i], unit_id=str(i), turn_index=i, speaker="P1",
                text=exemplars.texts[i], codes=exemplars.codes[i], coder="bench",
                previous_text="", group=exemplars.groups[i], origin="import",
                vector=exemplars.vectors[i],
            )
            for i in range(count)
        ]  # fmt: skip
        with workspace.store.write() as transaction:
            insert_exemplars(transaction.connection, PROJECT, rows, "test-hashing-encoder")
            bump_change_counter(transaction.connection, PROJECT)
    finally:
        close_workspace(workspace, saver)


def _seconds(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def decide_then_suggest(workspace: Workspace, method: str, turn: int) -> None:
    text = f"Someone could tamper with the labels, case {turn}."
    record_decision(
        workspace,
        PROJECT,
        Decision(action="change", coder="ana", text=text, codes=("A.1",), speaker="P1"),
    )
    batch = suggest_for_units(workspace, PROJECT, QUERY, method=method)
    assert batch.exemplar_count >= 1, "the suggestion comes from the updated coder"


def measure(count: int, method: str, decisions: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        stored_project(data_dir, count)
        settings = Settings(data_dir=data_dir)
        workspace, saver = open_workspace(settings, HashingEncoder(384), Metrics())
        try:
            first = _seconds(lambda: suggest_for_units(workspace, PROJECT, QUERY, method=method))
            learns = [
                _seconds(lambda turn=turn: decide_then_suggest(workspace, method, turn))
                for turn in range(decisions)
            ]
            coder = workspace.engine.coder(PROJECT, method, 10)
            assert coder.state.exemplar_count == count + decisions, "every decision was learned"
        finally:
            close_workspace(workspace, saver)
    return first, statistics.median(learns), max(learns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--decisions", type=int, default=5)
    parser.add_argument("--method", default="linear")
    args = parser.parse_args()
    print(f"interview codebook, method {args.method}, {args.decisions} decisions per size")
    print("| exemplars | first suggestion, calibrated fit (s) | decision -> next suggestion, "
          "median (s) | worst (s) |")  # fmt: skip
    print("|---|---|---|---|")
    for size in (int(value) for value in args.sizes.split(",")):
        first, median, worst = measure(size, args.method, args.decisions)
        print(f"| {size:,} | {first:.2f} | {median:.3f} | {worst:.3f} |")


if __name__ == "__main__":
    main()
