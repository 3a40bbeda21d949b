"""Plain-text transcripts: speaker labels, decoding, format detection, ids and refusals."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from codebook.errors import TranscriptError
from codebook.transcripts import (
    TRANSCRIPT_FORMATS,
    Sentence,
    Transcript,
    parse_transcript,
    read_transcript,
)


def assert_consistent(transcript: Transcript, sentences: Sequence[Sentence] = ()) -> None:
    """Every offset invariant the package promises, on turns and on sentences."""
    previous_end = 0
    for index, turn in enumerate(transcript.turns):
        assert turn.index == index
        assert transcript.text[turn.start : turn.end] == turn.text
        assert turn.text
        assert turn.text == turn.text.strip()
        assert turn.start >= previous_end
        previous_end = turn.end
    previous_end = 0
    for index, sentence in enumerate(sentences):
        turn = transcript.turns[sentence.turn_index]
        assert sentence.index == index
        assert sentence.transcript_id == transcript.id
        assert sentence.speaker == turn.speaker
        assert transcript.text[sentence.start : sentence.end] == sentence.text
        assert sentence.text
        assert sentence.text == sentence.text.strip()
        assert sentence.start >= previous_end
        assert turn.start <= sentence.start < sentence.end <= turn.end
        previous_end = sentence.end


def turn_rows(transcript: Transcript) -> list[tuple[str, str]]:
    return [(turn.speaker, turn.text) for turn in transcript.turns]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


# --- plain text with speaker labels -------------------------------------------------------------

LABELLED = """Interview 7, recorded on site.

Interviewer: How did you start?
Tell me everything.
S1: I started in 2019. It was hard.

P3 - I agree \u2013 mostly.
P3 \u2013 We all did.
Dr. Smith: Let me add one thing.
"""


def test_plain_text_labels_start_turns_and_lines_continue_them(tmp_path: Path) -> None:
    transcript = read_transcript(write(tmp_path, "interview-7.txt", LABELLED))

    assert transcript.id == "interview-7"
    assert transcript.source_format == "text"
    assert transcript.text == LABELLED
    assert turn_rows(transcript) == [
        ("", "Interview 7, recorded on site."),
        ("Interviewer", "How did you start?\nTell me everything."),
        ("S1", "I started in 2019. It was hard."),
        ("P3", "I agree \u2013 mostly."),
        ("P3", "We all did."),
        ("Dr. Smith", "Let me add one thing."),
    ]
    interviewer = transcript.turns[1]
    assert (interviewer.start, interviewer.end) == (45, 83)
    assert interviewer.start_time is None
    assert interviewer.end_time is None
    assert_consistent(transcript)


def test_crlf_and_bom_keep_the_users_text_and_offsets(tmp_path: Path) -> None:
    body = "Interviewer: Hello.\r\nAnd welcome.\r\n\r\nP1: Thanks.\r\n"
    transcript = read_transcript(write(tmp_path, "a.txt", b"\xef\xbb\xbf" + body.encode()))

    assert transcript.text == body
    assert turn_rows(transcript) == [("Interviewer", "Hello.\r\nAnd welcome."), ("P1", "Thanks.")]
    assert [(turn.start, turn.end) for turn in transcript.turns] == [(13, 33), (41, 48)]
    assert_consistent(transcript)


def test_utf16_with_bom_is_decoded() -> None:
    transcript = parse_transcript("S1: Grüße.\nS2: Ça va.".encode("utf-16"), "text", "u16")

    assert turn_rows(transcript) == [("S1", "Grüße."), ("S2", "Ça va.")]


def test_leading_timestamps_set_start_time_and_are_not_text() -> None:
    text = (
        "[00:01:02] Interviewer: Ready?\n00:01:05.5 P2: Yes.\n(1:02:03) S1: Go.\n[00:09] No label."
    )
    transcript = parse_transcript(text.encode(), "text", "stamped")

    assert turn_rows(transcript) == [
        ("Interviewer", "Ready?"),
        ("P2", "Yes."),
        ("S1", "Go.\n[00:09] No label."),
    ]
    assert [turn.start_time for turn in transcript.turns] == [62.0, 65.5, 3723.0]
    assert_consistent(transcript)


def test_a_label_alone_on_its_line_takes_the_next_lines() -> None:
    transcript = parse_transcript(b"S1:\n\n   It was late.\n\nS2: Yes.", "text", "t")

    assert turn_rows(transcript) == [("S1", "It was late."), ("S2", "Yes.")]
    assert transcript.turns[0].start == 8


def test_a_label_with_no_text_makes_no_turn() -> None:
    transcript = parse_transcript(b"Interviewer:\nP1: Hello.", "text", "t")

    assert turn_rows(transcript) == [("P1", "Hello.")]
    assert transcript.turns[0].index == 0


@pytest.mark.parametrize(
    "line",
    [
        "Note: the participant laughed.",
        "So what I mean is: it depends.",
        "see http://example.org for more",
        "10:30 meeting: nothing",
        "Well - I think so.",
        "A very long label that has five words: no",
        "Yes - definitely.",
        "NB: recording paused.",
    ],
)
def test_lines_that_only_look_like_labels_continue_the_turn(line: str) -> None:
    transcript = parse_transcript(f"P1: First.\n{line}\nP2: Last.".encode(), "text", "t")

    assert turn_rows(transcript) == [("P1", f"First.\n{line}"), ("P2", "Last.")]


def test_dash_labels_count_when_they_recur_or_appear_with_a_colon() -> None:
    text = "Jane - Hello.\nMark: Hi.\nMark - Again.\nJane - Bye.\nOnce - only here."
    transcript = parse_transcript(text.encode(), "text", "t")

    assert turn_rows(transcript) == [
        ("Jane", "Hello."),
        ("Mark", "Hi."),
        ("Mark", "Again."),
        ("Jane", "Bye.\nOnce - only here."),
    ]


def test_name_particles_and_lower_case_words() -> None:
    text = "Maria de la Cruz: Hola.\nthe interviewer: no.\nINTERVIEWER: Yes."
    transcript = parse_transcript(text.encode(), "text", "t")

    assert turn_rows(transcript) == [
        ("Maria de la Cruz", "Hola.\nthe interviewer: no."),
        ("INTERVIEWER", "Yes."),
    ]


# --- formats, ids and errors --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["notes.md", "notes.TEXT", "notes.txt"])
def test_format_comes_from_the_extension(tmp_path: Path, name: str) -> None:
    transcript = read_transcript(write(tmp_path, name, "P1: Hi."))

    assert (transcript.id, transcript.source_format) == ("notes", "text")


def test_format_and_id_given_override_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "upload.bin", "P1: Hi.")

    transcript = read_transcript(path, format=".TXT", transcript_id="int-1")

    assert (transcript.id, transcript.source_format, turn_rows(transcript)) == (
        "int-1",
        "text",
        [("P1", "Hi.")],
    )
    assert TRANSCRIPT_FORMATS == ("text", "vtt", "srt", "docx", "csv")


def test_parse_transcript_takes_the_format_from_a_filename() -> None:
    transcript = parse_transcript(b"P1: Hi.", None, "x", filename="Upload.TXT")

    assert transcript.source_format == "text"


def test_undecodable_bytes_name_the_offset_and_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.txt", "P1: café".encode("latin-1"))

    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)

    message = str(caught.value)
    assert "byte offset 7" in message
    assert "save the file as UTF-8" in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"", "an empty file"),
        (b" \r\n\t\n", "only white space"),
        (b"\xef\xbb\xbf  \n", "only white space"),
        (b"Interviewer:\nP1:\n", "plain text whose turns are all empty"),
    ],
)
def test_a_file_without_speech_is_refused(tmp_path: Path, data: bytes, found: str) -> None:
    with pytest.raises(TranscriptError, match="contains no speech") as caught:
        read_transcript(write(tmp_path, "empty.txt", data))

    assert found in str(caught.value)


def test_unknown_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError) as caught:
        read_transcript(write(tmp_path, "talk.pdf", b"%PDF"))

    message = str(caught.value)
    assert "'.pdf'" in message
    assert ".txt, .text, .md, .vtt, .srt, .docx, .csv" in message
    assert "text, vtt, srt, docx, csv" in message


def test_unknown_format_name_lists_the_formats() -> None:
    with pytest.raises(TranscriptError, match=r"unknown transcript format 'pdf'.*text, vtt"):
        parse_transcript(b"P1: Hi.", "pdf", "x")


def test_a_missing_file_is_a_transcript_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="No such file or directory; check the path"):
        read_transcript(tmp_path / "gone.txt")


def test_importing_the_package_loads_no_parser_library() -> None:
    code = (
        "import sys, codebook.transcripts; "
        "print(sorted({'spacy', 'docx', 'webvtt', 'srt'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
