"""Benchmark: ``intercoder code`` throughput, the local engine against the Ray engine with 1 and
2 workers on a local Ray, coding the same table of units with the real bundled model.

Corpus: the first ``--sentences`` utterances of SwDA in conversation order (``../shared``), as a
Parquet table of units; the coder: ``knn`` on ``--exemplars`` utterances of other SwDA
conversations, with the shipped ``swda`` codebook (knn because its fit is instant, so every
process's start-up is model loading, and the head's cost per sentence is small next to the
encoder's). Every speaker is coded.

Each engine runs as the command a user types (``python -m service.cli.main code``, in a
subprocess: eval never imports service), twice: on the whole corpus and on its first
``--small`` units. A run's seconds include starting (a local Ray, its workers, each loading the
model); the difference of the two runs removes that, and gives the steady coding rate:
(sentences - small) / (seconds - small's seconds). Runs go one after another, never together.

Run: ``.venv/bin/python -m eval.bench_ray [--sentences 10000] [--small 1000] [--exemplars 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codebook.datasets import load_swda

ENGINES: tuple[tuple[str, list[str]], ...] = (
    ("local", []),
    ("ray, 1 worker", ["--engine", "ray", "--workers", "1"]),
    ("ray, 2 workers", ["--engine", "ray", "--workers", "2"]),
)


def corpus(folder: Path, sentences: int, small: int, exemplars: int) -> tuple[Path, Path, Path]:
    """The units table, its first ``small`` units, and a coded CSV from other conversations."""
    swda = load_swda()
    conversations = swda["transcript_id"].drop_duplicates()
    held_out = set(conversations.iloc[-200:])  # exemplars come from the last conversations
    units = swda[~swda["transcript_id"].isin(held_out)].head(sentences)
    table = units[["transcript_id", "speaker", "text"]].reset_index(drop=True)
    table.to_parquet(folder / "units.parquet", index=False)
    table.head(small).to_parquet(folder / "small.parquet", index=False)
    coded = swda[swda["transcript_id"].isin(held_out)].sample(exemplars, random_state=0)
    coded.assign(codes=[";".join(sorted(codes)) for codes in coded["codes"]])[
        ["transcript_id", "text", "codes"]
    ].to_csv(folder / "coded.csv", index=False)
    return folder / "units.parquet", folder / "small.parquet", folder / "coded.csv"


def run(table: Path, coded: Path, out: Path, engine: list[str]) -> tuple[int, float, float]:
    """One ``intercoder code`` run: sentences coded, the summary's seconds, the wall seconds."""
    env = {k: v for k, v in os.environ.items() if k != "INTERCODER_TEST_ENCODER"}
    env["INTERCODER_DATA_DIR"] = str(out.parent / "data")
    command = [
        sys.executable, "-m", "service.cli.main", "code", str(table), "--codebook", "swda",
        "--exemplars", str(coded), "--method", "knn", "--skip-speakers", "", "--out", str(out),
        "-q", *engine,
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    summary = json.loads((out / "_summary.json").read_text())
    return int(summary["sentences"]), float(summary["seconds_this_run"]), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--exemplars", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        table, small, coded = corpus(folder, args.sentences, args.small, args.exemplars)
        rows = []
        for name, engine in ENGINES:
            label = name.replace(" ", "").replace(",", "-")
            few, few_seconds, _ = run(small, coded, folder / f"small-{label}", engine)
            many, seconds, wall = run(table, coded, folder / f"out-{label}", engine)
            steady = (many - few) / max(seconds - few_seconds, 1e-9)
            rows.append((name, many, wall, seconds, many / seconds, steady))
            print(f"{name}: {many} sentences, {wall:.1f} s wall", flush=True)
    print("| engine | sentences | wall s | run s | sentences/s (run) | steady sentences/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, many, wall, seconds, rate, steady in rows:
        print(f"| {name} | {many:,} | {wall:.1f} | {seconds:.1f} | {rate:.0f} | {steady:.0f} |")


if __name__ == "__main__":
    main()
