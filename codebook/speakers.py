"""Whose talk is coded: the codebook's speaker roles and the user's choice, per unit.

A codebook may declare speakers whose units are never coded, in YAML::

    speakers:
      skip: [Interviewer, I, Moderator]

An interview codebook codes what participants say; the interviewer's "Go on." and "Can you say
more about that?" carry none of its codes. :func:`select_sentences` says, unit by unit, which
are coded: the user's explicit ``speakers`` (only these) or ``skip_speakers`` (instead of the
codebook's list) win over the codebook. Names match case-insensitively with surrounding and
repeated white space ignored, so ``interviewer `` is ``Interviewer``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from codebook.errors import InputError, Problem
from codebook.model import Codebook, Speakers

if TYPE_CHECKING:
    from codebook.validation import Where

_SPEAKERS_KEYS = ("skip",)


def speaker_key(name: str | None) -> str:
    """The form names are compared in: case-folded, white space trimmed and collapsed."""
    return " ".join((name or "").split()).casefold()


def select_sentences(
    unit_speakers: Sequence[str | None],
    *,
    speakers: Sequence[str] | None = None,
    skip_speakers: Sequence[str] | None = None,
    codebook: Codebook | None = None,
    check_present: bool = True,
) -> list[bool]:
    """For each unit (given by its speaker, ``""``/None when unknown), whether it is coded.

    ``speakers`` codes only these speakers' units (speaker-less units are then not coded);
    ``skip_speakers`` replaces the codebook's ``speakers.skip`` list (``[]`` codes everyone);
    with neither, the codebook's list applies. Raises InputError when both lists name the same
    speaker, or (with ``check_present``) when ``speakers`` names nobody among
    ``unit_speakers``: a page of a transcript is checked against the whole transcript first,
    with :func:`check_speaker_choice`, and then selected with ``check_present=False``.
    """
    wanted = {speaker_key(name) for name in speakers or () if speaker_key(name)}
    explicit_skip = {speaker_key(name) for name in skip_speakers or () if speaker_key(name)}
    _check_clash(speakers or (), explicit_skip)
    if check_present:
        _check_present(unit_speakers, speakers or (), wanted)
    keys = [speaker_key(name) for name in unit_speakers]
    if wanted:
        return [key in wanted and key not in explicit_skip for key in keys]
    if skip_speakers is not None:
        skipped = explicit_skip
    else:
        skip_list = codebook.speakers.skip if codebook is not None else ()
        skipped = {speaker_key(name) for name in skip_list}
    return [not key or key not in skipped for key in keys]


def check_speaker_choice(
    present_speakers: Sequence[str | None],
    *,
    speakers: Sequence[str] | None = None,
    skip_speakers: Sequence[str] | None = None,
) -> None:
    """InputError for a choice that cannot work: a speaker both coded and skipped, or speakers
    to code of whom none is among ``present_speakers`` (the whole transcript's). Cheap: call
    it before any long work."""
    wanted = {speaker_key(name) for name in speakers or () if speaker_key(name)}
    _check_clash(speakers or (), {speaker_key(name) for name in skip_speakers or ()})
    _check_present(present_speakers, speakers or (), wanted)


def _check_clash(speakers: Sequence[str], explicit_skip: set[str]) -> None:
    clash = [name for name in speakers if speaker_key(name) in explicit_skip]
    if clash:
        raise InputError(
            f"speaker(s) {', '.join(repr(name) for name in clash)} are both to be coded and "
            "to be skipped; name each speaker in only one of the two lists"
        )


def _check_present(
    unit_speakers: Sequence[str | None], speakers: Sequence[str], wanted: set[str]
) -> None:
    present = {speaker_key(name) for name in unit_speakers}
    if wanted and not wanted & present:
        names = sorted({" ".join(name.split()) for name in unit_speakers if name and name.strip()})
        expected = ", ".join(names) if names else "(the transcript names no speakers)"
        raise InputError(
            f"none of the speakers to code ({', '.join(speakers)}) speaks in the transcript; "
            f"expected one of: {expected}"
        )


def build_speakers(raw: Any, where: Where, problems: list[Problem]) -> Speakers:
    """The optional ``speakers`` mapping of a codebook (see the module docstring)."""
    if raw is None:
        return Speakers()
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(where.key("speakers"), "'speakers' must be a mapping such as {skip: [...]}")
        )
        return Speakers()
    problems += [
        Problem(
            where.key(f"speakers.{key}"),
            f"speakers: unknown field {key!r}; expected one of {list(_SPEAKERS_KEYS)}",
        )
        for key in raw
        if key not in _SPEAKERS_KEYS
    ]
    skip = raw.get("skip", [])
    if not isinstance(skip, list) or not all(
        isinstance(name, str) and name.strip() for name in skip
    ):
        problems.append(
            Problem(where.key("speakers.skip"), "speakers: 'skip' must be a list of speaker names")
        )
        return Speakers()
    return Speakers(skip=tuple(" ".join(name.split()) for name in skip))
