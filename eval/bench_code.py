"""Benchmark: ``intercoder code`` end to end against the raw encoder, and its memory.

A corpus of N real sentences (SwDA utterances, cycled when N is larger than the corpus) is
written as a Parquet table of units; the coder learns from 5,000 coded utterances of other
conversations (the 41-tag SwDA codebook, linear head). Two runs, each in a fresh process so
their peak resident memory is their own:

- **raw**: the same encoder (same backend, same batch size) embeds the same texts in the same
  chunks, and nothing else;
- **code**: ``intercoder code TABLE --out DIR`` as a user runs it.

Reported: sentences per second of each (the coding run's own timer, which excludes loading the
model and fitting the coder, both also reported), their ratio, and each run's peak RSS. Run
the sizes one after another (never two heavy processes at once: they share the cores).

Run: ``.venv/bin/python -m eval.bench_code --sizes 10000,100000 [--backend torch|onnx|onnx-int8]
[--data-dir DIR]``.
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

import pandas as pd

EXEMPLARS = 5_000
CHUNK = 2_048


def corpus(size: int, folder: Path) -> tuple[Path, Path]:
    """The units table of ``size`` sentences and the coded CSV the coder learns from."""
    from codebook.coded_csv import write_coded_csv
    from codebook.datasets import load_swda

    swda = load_swda()
    conversations = sorted(swda["transcript_id"].unique())
    held = set(conversations[: len(conversations) // 10])
    coded = swda[swda["transcript_id"].isin(held)].head(EXEMPLARS)
    rest = swda[~swda["transcript_id"].isin(held)].reset_index(drop=True)
    rows = rest.iloc[[i % len(rest) for i in range(size)]].reset_index(drop=True)
    cycle = [i // len(rest) for i in range(size)]
    table = pd.DataFrame(
        {
            "transcript_id": [
                f"{t}-{c}" for t, c in zip(rows["transcript_id"], cycle, strict=True)
            ],
            "sentence": rows["unit_id"].astype(int),
            "speaker": rows["speaker"].astype(str),
            "text": rows["text"].astype(str),
        }
    )
    table_path, coded_path = folder / f"units-{size}.parquet", folder / "coded.csv"
    table.to_parquet(table_path, index=False)
    write_coded_csv(coded, coded_path)
    return table_path, coded_path


def raw_encoder(table: Path, backend: str, onnx_dir: Path) -> dict[str, float]:
    """Embed the table's texts in the coding run's chunks; runs in its own process."""
    from models.encoder import ENCODER_BACKENDS, load_encoder

    chosen = next(name for name in ENCODER_BACKENDS if name == backend)
    encoder = load_encoder(None, backend=chosen, cache_dir=onnx_dir)
    texts = pd.read_parquet(table, columns=["text"])["text"].tolist()
    encoder.encode(texts[:64])  # warm-up, as the coding run's fit embeds its exemplars first
    started = time.perf_counter()
    for start in range(0, len(texts), CHUNK):
        encoder.encode(texts[start : start + CHUNK])
    seconds = time.perf_counter() - started
    return {"sentences": len(texts), "seconds": seconds, "per_second": len(texts) / seconds}


def _run_child(arguments: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run a process; its stdout, wall seconds, and its own peak RSS in MB (from wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(arguments, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(arguments)} failed:\n{stderr.read().decode()}")
        return stdout.read().decode(), wall, usage.ru_maxrss / 1024


def measure(size: int, folder: Path, backend: str, data: Path) -> dict[str, object]:
    """One size: the raw encoder, then the coding run (the same ONNX export and embedding
    cache in ``data`` across sizes, so the exemplars are embedded once)."""
    table, coded = corpus(size, folder)
    env = {**os.environ, "INTERCODER_ENCODER_BACKEND": backend, "INTERCODER_DATA_DIR": str(data)}
    raw_command = [sys.executable, "-m", "eval.bench_code", "--raw", str(table), "--backend",
                   backend, "--onnx-dir", str(data / "onnx")]  # fmt: skip
    raw_out, _, raw_rss = _run_child(raw_command, env)
    raw = json.loads(raw_out)
    out = folder / f"out-{size}"
    command = [sys.executable, "-m", "service.cli.main", "code", str(table), "--codebook",
               "swda", "--exemplars", str(coded), "--out", str(out), "--quiet"]  # fmt: skip
    _, wall, code_rss = _run_child(command, env)
    summary = json.loads((out / "_summary.json").read_text())
    coded_rate = summary["sentences_this_run"] / summary["seconds_this_run"]
    return {
        "backend": backend,
        "sentences": size,
        "raw_per_second": round(raw["per_second"], 1),
        "code_per_second": round(coded_rate, 1),
        "ratio": round(coded_rate / raw["per_second"], 3),
        "code_wall_seconds": round(wall, 1),
        "load_and_fit_seconds": round(wall - summary["seconds_this_run"], 1),
        "raw_peak_rss_mb": round(raw_rss),
        "code_peak_rss_mb": round(code_rss),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backend", default="torch", help="torch, onnx or onnx-int8")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="kept between runs (exports, cache)"
    )
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--onnx-dir", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.raw is not None:
        print(json.dumps(raw_encoder(arguments.raw, arguments.backend, arguments.onnx_dir)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        data = arguments.data_dir or Path(scratch) / "data"
        for size in sorted(int(s) for s in arguments.sizes.split(",")):
            row = measure(size, Path(scratch), arguments.backend, data)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
