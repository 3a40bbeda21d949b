"""The background set: sentences that should get no code in an interview codebook.

Back-channels ("Mm-hmm."), fillers, greetings and thanks, topic-free interviewer prompts ("Can
you say more about that?") and meeting logistics ("Let me share my screen."), written for this
project and shipped as ``codebook/data/background.txt``. The cold start adds them as exemplars
that carry no code, so that its thresholds are calibrated against sentences that need none.
Sentences come in groups of related ones (blank-line separated in the file); inner
cross-validation holds a group out as a whole so that "Yeah." never vouches for "Yeah, yeah.".
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

BACKGROUND_FILE = "background.txt"


@dataclass(frozen=True)
class BackgroundSentence:
    """One background sentence and the group of related sentences it belongs to."""

    text: str
    group: str


def parse_background(text: str) -> tuple[BackgroundSentence, ...]:
    """Sentences of the background format: one a line, '#' comments, blank lines end groups."""
    sentences: list[BackgroundSentence] = []
    group = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            group += 1
        elif not stripped.startswith("#"):
            sentences.append(BackgroundSentence(stripped, f"background:{group}"))
    return tuple(sentences)


def load_background() -> tuple[BackgroundSentence, ...]:
    """The shipped background set, in file order."""
    resource = resources.files("codebook").joinpath("data", BACKGROUND_FILE)
    return parse_background(resource.read_text(encoding="utf-8"))
