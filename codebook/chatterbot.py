"""The ChatterBot English corpus as a coded-units table: a check on data outside ``../shared``.

The corpus (``chatterbot-corpus`` on PyPI, BSD-3-Clause) is installed with the ``dev`` extra,
never downloaded by intercoder. Its authors filed each short conversation under one topic file
(``ai.yml``, ``trivia.yml``, ...). A unit is a conversation's opening utterance, coded with its
file's topic; the small-talk files in :data:`NO_CODE_FILES` give "no code". An opening that
appears under two topics is dropped (its topic is not decided), and one that repeats under the
same topic is kept once, since the corpus repeats a prompt once per reply. Each unit is its own
transcript: the conversations are independent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import yaml

from codebook.coded import check_codes, coded_frame
from codebook.errors import CodedDataError, DatasetUnavailableError
from codebook.loader import load_codebook

CORPUS_PACKAGE = "chatterbot_corpus"
CODEBOOK_NAME = "chatterbot-topics"
NO_CODE_FILES = frozenset({"greetings", "conversations", "botprofile"})
"""Small talk, fixed before any evaluation ran: greetings, how-are-you exchanges and questions
about the bot itself are what a coder of topics leaves uncoded."""


def corpus_folder() -> Path:
    """The installed corpus's English files; a clear error where the package is missing."""
    spec = importlib.util.find_spec(CORPUS_PACKAGE)
    if spec is None or spec.origin is None:
        raise DatasetUnavailableError(
            "the ChatterBot corpus is not installed (package chatterbot-corpus); install the "
            "development extra (pip install 'intercoder[dev]') or pip install "
            "'chatterbot-corpus==1.3.3'"
        )
    return Path(spec.origin).parent / "data" / "english"


def load_chatterbot(folder: Path | None = None) -> pd.DataFrame:
    """Opening utterances of the corpus's English conversations, coded by topic file."""
    source = corpus_folder() if folder is None else folder
    topics: dict[str, set[str]] = {}
    for path in sorted(source.glob("*.yml")):
        for opening in _openings(path):
            topics.setdefault(opening, set()).add(path.stem)
    decided = sorted((text, files.pop()) for text, files in topics.items() if len(files) == 1)
    if not decided:
        raise CodedDataError(f"no ChatterBot conversations found in {source}")
    transcripts = [f"c{number}" for number in range(len(decided))]
    frame = coded_frame(
        pd.DataFrame(
            {
                "transcript_id": transcripts,
                "unit_id": "0",
                "turn_index": 0,
                "speaker": "user",
                "text": [text for text, _ in decided],
                "codes": [
                    frozenset() if topic in NO_CODE_FILES else frozenset({topic})
                    for _, topic in decided
                ],
                "coder": "chatterbot-corpus",
                "previous_text": "",
                "group": transcripts,
            }
        )
    )
    check_codes(frame, load_codebook(CODEBOOK_NAME))
    return frame


def _openings(path: Path) -> list[str]:
    """The first utterance of each conversation of one topic file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversations = document.get("conversations") if isinstance(document, dict) else None
    if not isinstance(conversations, list):
        raise CodedDataError(
            f"{path}: expected a 'conversations' list of utterance lists; the ChatterBot "
            "corpus is not the expected release (chatterbot-corpus 1.3.3)"
        )
    return [
        " ".join(str(turns[0]).split())
        for turns in conversations
        if isinstance(turns, list) and turns
    ]
