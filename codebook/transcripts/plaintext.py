"""Speaker labels in plain text: which lines start a turn, and the turns they make.

The rule, applied to each line on its own (a label is only ever looked for at a line's start):

- Optional indentation, then optionally a timestamp ``[00:01:02]``, ``(00:01:02)`` or
  ``00:01:02`` (``mm:ss`` and fractions of a second too) followed by a space.
- Then a label of one to four words, at most 40 characters, whose first word starts with a
  letter. Words are letters, digits, apostrophes, ``.`` and ``-`` (``Dr. Smith``, ``S1``,
  ``P3``, ``Mary-Jane O'Neil``); a word may also be a short parenthesised note (``Interviewer
  (JD)``). No word may start with a lower-case letter except the name particles in
  ``_PARTICLES`` (``van``, ``de`` ...), so ``So what I mean is: ...`` continues the turn instead
  of starting one.
- Then a separator: a colon followed by white space or the end of the line (``Interviewer:``,
  never ``http://`` or ``10:30``), or a hyphen, en dash or em dash with white space on both sides
  (``P3 - ...``).
- Words that head notes rather than name speakers (``Note:``, ``Date:``, ``Yes - ...``, see
  ``_NOT_SPEAKERS``) are never labels.
- A dash is weaker evidence than a colon (``Well - I think`` is speech), so a dash label counts
  only when it holds a digit (``P3``), is also used with a colon somewhere in the file, or
  starts at least two lines.

A line without a label continues the current turn; text before the first label is a turn whose
speaker is ``""``. A turn's text runs from after its label to the end of its last non-blank
line, with the white space at both ends left out (blank lines and line breaks inside it are
kept). A label with no text after it makes no turn. The timestamp before a label, if any, is the
turn's ``start_time``; a timestamp without a label is left in the text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from codebook.transcripts.model import Turn

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# Apostrophes straight and curly; colons ASCII and full-width; hyphen, en dash and em dash.
_APOSTROPHES = "'\u2019"
_COLONS = ":\uff1a"
_DASHES = "\\-\u2013\u2014"
_WORD = rf"[^\W_][\w{_APOSTROPHES}.\-]*"
_LABELLED_LINE = re.compile(
    rf"""
    [ \t]*
    (?:(?:\[(?P<bracketed>{_TIME})\]|\((?P<parenthesised>{_TIME})\)|(?P<bare>{_TIME}))[ \t]+)?
    (?P<label>[^\W\d_][\w{_APOSTROPHES}.\-]*(?:[ \t]+(?:{_WORD}|\([^()\n]{{1,30}}\))){{0,3}})
    (?:[ \t]*(?P<colon>[{_COLONS}])(?=\s|$)|[ \t]+(?P<dash>[{_DASHES}])(?=\s|$))
    """,
    re.VERBOSE,
)
# A caption cue's "Name: text" prefix is written by the meeting software, so its case is
# whatever the participant typed ("jane doe: ..."); only the shape and the note words are checked.
_CUE_PREFIX = re.compile(
    rf"[ \t]*(?P<label>[^\W\d_][^{_COLONS}\n<>,;!?\"]{{0,39}}?)[ \t]*[{_COLONS}](?=\s|$)"
)

MAX_LABEL_CHARS = 40
MAX_LABEL_WORDS = 4
_PARTICLES = frozenset(
    {"al", "bin", "da", "de", "del", "della", "den", "der", "di", "du", "el", "ibn", "la"}
    | {"le", "of", "the", "van", "von", "y"}
)
# fmt: off
_NOT_SPEAKERS = frozenset(
    {
        "note", "notes", "nb", "n.b", "ps", "p.s", "pps", "date", "time", "place", "location",
        "venue", "title", "subject", "topic", "duration", "re", "fwd", "example", "e.g", "eg",
        "i.e", "ie", "edit", "update", "warning", "caution", "source", "link", "url", "email",
        "e-mail", "tel", "phone", "page", "file", "transcript", "summary", "tip", "hint",
        "remember", "important", "todo", "also", "and", "but", "because", "so", "then", "well",
        "yes", "no", "yeah", "okay", "ok", "right", "however", "therefore", "anyway", "like",
        "um", "uh", "hmm", "oh", "now", "first", "second", "third", "finally", "why", "what",
        "how", "when", "where", "who", "which",
    }
)
# fmt: on


@dataclass
class _Open:
    """The turn being read: its speaker and the span its text lies in so far."""

    speaker: str
    start_time: float | None
    content_start: int
    content_end: int


@dataclass(frozen=True)
class _Label:
    speaker: str
    dash: bool
    content_start: int
    start_time: float | None


def parse_labelled_text(text: str) -> list[Turn]:
    """The turns of a plain-text transcript, with offsets into ``text`` itself."""
    lines = list(_lines(text))
    labels = [_find_label(body, start) for start, body in lines]
    accepted_dash = _accepted_dash_labels([label for label in labels if label is not None])
    turns: list[Turn] = []
    current: _Open | None = None
    for (start, body), label in zip(lines, labels, strict=True):
        if label is not None and (not label.dash or label.speaker.casefold() in accepted_dash):
            _close(text, current, turns)
            at = label.content_start
            current = _Open(label.speaker, label.start_time, content_start=at, content_end=at)
            from_column = label.content_start - start
        else:
            from_column = 0
        if not body[from_column:].strip():
            continue
        if current is None:
            current = _Open("", None, start, start)
        current.content_end = start + len(body.rstrip())
    _close(text, current, turns)
    return turns


def split_cue_speaker(text: str) -> tuple[str, str]:
    """A caption cue's ``Name: text`` split into speaker and text; ``("", text)`` without one."""
    match = _CUE_PREFIX.match(text)
    if match is None:
        return "", text
    label = " ".join(match.group("label").split())
    if len(label.split()) > MAX_LABEL_WORDS or _is_note_word(label):
        return "", text
    return label, text[match.end() :].strip()


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line without its line break) for every line; CR, LF and CRLF all end a line."""
    for match in re.finditer(r"[^\r\n]*(?:\r\n|\r|\n)?", text):
        if match.group():
            yield match.start(), match.group().rstrip("\r\n")


def _find_label(body: str, line_start: int) -> _Label | None:
    match = _LABELLED_LINE.match(body)
    if match is None:
        return None
    label = " ".join(match.group("label").split())
    if not is_speaker_label(label):
        return None
    stamp = match.group("bracketed") or match.group("parenthesised") or match.group("bare")
    return _Label(
        speaker=label,
        dash=match.group("dash") is not None,
        content_start=line_start + match.end(),
        start_time=_seconds(stamp) if stamp else None,
    )


def is_speaker_label(label: str) -> bool:
    """Whether ``label`` (one line, no separator) has the shape of a speaker label."""
    words = label.split()
    if not words:
        return False
    if len(label) > MAX_LABEL_CHARS or len(words) > MAX_LABEL_WORDS or _is_note_word(label):
        return False
    if not words[0][0].isalpha() or words[0][0].islower():
        return False
    return all(not word[0].islower() or word in _PARTICLES for word in words[1:])


def _is_note_word(label: str) -> bool:
    return label.rstrip(".").casefold() in _NOT_SPEAKERS


def _accepted_dash_labels(labels: list[_Label]) -> set[str]:
    """Dash labels (casefolded) with enough evidence to be speakers; see the module docstring."""
    colon = {label.speaker.casefold() for label in labels if not label.dash}
    dash = Counter(label.speaker.casefold() for label in labels if label.dash)
    return {
        name
        for name, count in dash.items()
        if count >= 2 or name in colon or any(char.isdigit() for char in name)
    }


def _close(text: str, current: _Open | None, turns: list[Turn]) -> None:
    """Append the open turn, trimmed of white space, unless it has no text."""
    if current is None:
        return
    span = text[current.content_start : current.content_end]
    start = current.content_start + len(span) - len(span.lstrip())
    end = current.content_start + len(span.rstrip())
    if start >= end:
        return
    turns.append(
        Turn(
            index=len(turns),
            speaker=current.speaker,
            text=text[start:end],
            start=start,
            end=end,
            start_time=current.start_time,
        )
    )


def _seconds(stamp: str) -> float:
    """``[h:]mm:ss[.fff]`` (or ``mm:ss``) in seconds."""
    seconds = 0.0
    for part in stamp.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds
