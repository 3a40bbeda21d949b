"""Shared pieces of the review page's tests: a VTT interview, a hostile transcript, and the
CSRF token read from a page as the browser would."""

from __future__ import annotations

import re

import yaml

from tests.test_service_support import SMALL_CODEBOOK

HOSTILE_TEXT = 'P1: I said <script>alert("x")</script> and " onmouseover="alert(1) twice.\n'
"""A transcript line that would run script if any page rendered it unescaped."""

CODEBOOK_YAML = yaml.safe_dump(SMALL_CODEBOOK).encode()

_LINES = [
    ("Interviewer", "How do you train your models?"),
    ("P3", "We retrain the model every week."),
    ("P3", "Someone could poison the training data."),
    ("Interviewer", "What worries you most?"),
    ("P3", "Attackers craft inputs that fool the classifier."),
    ("P3", "Fake samples could poison the data."),
    ("P3", "We deploy the model on our servers."),
    ("Interviewer", "Anything else?"),
    ("P3", "Crafted inputs fool the classifier at night."),
    ("P3", "We ship a new model each month."),
    ("P3", "Tampering with training data scares me."),
    ("P3", "Thanks for having me."),
]


def interview_vtt(lines: list[tuple[str, str]] = _LINES) -> bytes:
    """A WebVTT file with one cue per (speaker, sentence)."""
    cues = [
        f"00:00:{2 * n:02d}.000 --> 00:00:{2 * n + 1:02d}.500\n<v {speaker}>{text}\n"
        for n, (speaker, text) in enumerate(lines)
    ]
    return ("WEBVTT\n\n" + "\n".join(cues)).encode()


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)
