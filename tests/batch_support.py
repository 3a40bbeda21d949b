"""Corpora for the batch-coding tests: small transcripts, a coded CSV, tables of units."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from tests.test_cli import CODED_CSV

WORDS = [
    "attack",
    "poison",
    "data",
    "model",
    "retrain",
    "week",
    "server",
    "coffee",
    "classifier",
    "inputs",
    "crafted",
    "fake",
    "samples",
    "nobody",
    "company",
    "small",
    "training",
    "thanks",
]


def write_coded(folder: Path) -> Path:
    path = folder / "coded.csv"
    path.write_text(CODED_CSV)
    return path


def write_transcripts(folder: Path, count: int, turns: int = 6, seed: int = 0) -> Path:
    """``count`` plain-text interviews (two sentences a turn), some in a subfolder."""
    chooser = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "more").mkdir(exist_ok=True)
    for number in range(count):
        lines = []
        for turn in range(turns):
            speaker = "Interviewer" if turn % 2 == 0 else f"P{number}"
            lines.append(f"{speaker}: {_sentence(chooser, 8)} {_sentence(chooser, 5)}")
        place = folder / "more" if number % 3 == 0 else folder
        (place / f"interview{number:03d}.txt").write_text("\n\n".join(lines) + "\n")
    return folder


def units_table(rows: int, transcripts: int, seed: int = 0) -> pd.DataFrame:
    chooser = random.Random(seed)
    per = max(1, rows // transcripts)
    return pd.DataFrame(
        {
            "transcript_id": [f"doc{i // per:04d}" for i in range(rows)],
            "speaker": ["Interviewer" if i % 3 == 0 else "P" for i in range(rows)],
            "text": [_sentence(chooser, 7) for _ in range(rows)],
        }
    )


def _sentence(chooser: random.Random, words: int) -> str:
    return " ".join(chooser.choice(WORDS) for _ in range(words)).capitalize() + "."
