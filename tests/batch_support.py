"""Corpora for the batch-coding tests: small transcripts, a coded CSV, tables of units."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pandas as pd

CODED_CSV = textwrap.dedent(
    """\
    transcript_id,text,codes
    t1,Someone could poison our training data with fake samples.,A.1
    t1,We retrain the model every week.,E.1;B.1
    t1,I had coffee this morning.,
    t2,Attackers could fool the classifier with crafted inputs.,A.2
    t2,We retrain whenever new data arrives.,E.1
    t2,Thanks for having me.,
    t3,Nobody would bother attacking us.,L.3
    t3,The training runs on our own servers.,E.1
    t3,Let us start.,
    """
)
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
