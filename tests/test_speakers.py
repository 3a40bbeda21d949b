"""Speaker roles in codebooks, and which units are coded (codebook.speakers)."""

from __future__ import annotations

import textwrap

import pytest

from codebook.errors import CodebookError, InputError
from codebook.loader import codebook_to_yaml, load_codebook, parse_codebook_yaml
from codebook.refi import read_qdc, write_qdc
from codebook.speakers import select_sentences

BASE = textwrap.dedent(
    """\
    name: tiny
    codes:
      - id: a
        name: A
    """
)
WITH_SKIP = BASE + "speakers:\n  skip: [Interviewer, ' I ']\n"
UNITS = ["Interviewer", "P1", "interviewer ", "", None, "I", "P2"]


def test_speakers_field_is_optional_and_leaves_the_version_alone() -> None:
    plain = parse_codebook_yaml(BASE)
    assert plain.speakers.skip == ()
    assert "speakers" not in codebook_to_yaml(plain)
    skipping = parse_codebook_yaml(WITH_SKIP)
    assert skipping.speakers.skip == ("Interviewer", "I")
    assert skipping.version != plain.version


def test_speakers_survive_yaml_and_qdc_round_trips() -> None:
    book = parse_codebook_yaml(WITH_SKIP)
    assert parse_codebook_yaml(codebook_to_yaml(book)) == book
    assert read_qdc(write_qdc(book)) == book


def test_shipped_interview_codebook_skips_the_interviewer() -> None:
    assert "Interviewer" in load_codebook("interview").speakers.skip
    assert load_codebook("swda").speakers.skip == ()


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("speakers:\n  skip: [I]\n  code: [P1]\n", 7, "unknown field 'code'"),
        ("speakers:\n  skip: I\n", 6, "'skip' must be a list"),
        ("speakers:\n  skip: ['', P1]\n", 6, "'skip' must be a list"),
        ("speakers: [I]\n", 5, "'speakers' must be a mapping"),
        ("speaker:\n  skip: [I]\n", 5, "unknown top-level key 'speaker'"),
    ],
)
def test_bad_speakers_are_errors_with_their_line(extra: str, line: int, message: str) -> None:
    with pytest.raises(CodebookError) as raised:
        parse_codebook_yaml(BASE + extra, "book.yaml")
    [problem] = raised.value.problems
    assert problem.location == f"book.yaml:{line}"
    assert message in problem.message


def test_codebook_roles_skip_names_case_and_space_insensitively() -> None:
    book = parse_codebook_yaml(WITH_SKIP)
    assert select_sentences(UNITS, codebook=book) == [False, True, False, True, True, False, True]


def test_without_roles_or_choice_everyone_is_coded() -> None:
    assert select_sentences(UNITS) == [True] * len(UNITS)
    assert select_sentences(UNITS, codebook=parse_codebook_yaml(BASE)) == [True] * len(UNITS)


def test_explicit_speakers_win_and_speakerless_units_are_left_out() -> None:
    book = parse_codebook_yaml(WITH_SKIP)
    chosen = select_sentences(UNITS, speakers=["  INTERVIEWER"], codebook=book)
    assert chosen == [True, False, True, False, False, False, False]
    assert select_sentences(UNITS, speakers=["p1", "P9"]) == [
        *(False, True),
        *(False,) * 5,
    ]


def test_explicit_skip_list_replaces_the_codebooks() -> None:
    book = parse_codebook_yaml(WITH_SKIP)
    assert select_sentences(UNITS, skip_speakers=["p2"], codebook=book) == [
        *(True,) * 6,
        False,
    ]
    assert select_sentences(UNITS, skip_speakers=[], codebook=book) == [True] * len(UNITS)


def test_a_speaker_both_coded_and_skipped_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"'P1'.*both to be coded and to be skipped"):
        select_sentences(UNITS, speakers=["P1"], skip_speakers=[" p1"])


def test_speakers_naming_nobody_present_lists_who_is() -> None:
    with pytest.raises(InputError, match="expected one of: I, Interviewer, P1, P2"):
        select_sentences(["Interviewer", "P1", "I", "P2", None], speakers=["Participant"])
    with pytest.raises(InputError, match="names no speakers"):
        select_sentences(["", None], speakers=["P1"])
