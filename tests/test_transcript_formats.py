"""WebVTT, SRT, .docx and CSV transcripts: speakers, rendering, offsets and refusals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codebook.errors import TranscriptError
from codebook.transcripts import (
    TRANSCRIPT_FORMATS,
    Transcript,
    parse_transcript,
    read_transcript,
    split_sentences,
)


def assert_consistent(transcript: Transcript) -> None:
    """Turn and sentence offsets point at their texts; sentences stay inside their turns."""
    for index, turn in enumerate(transcript.turns):
        assert turn.index == index
        assert transcript.text[turn.start : turn.end] == turn.text
        assert turn.text
        assert turn.text == turn.text.strip()
    previous_end = 0
    for sentence in split_sentences(transcript):
        turn = transcript.turns[sentence.turn_index]
        assert transcript.text[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip()
        assert turn.start <= sentence.start >= previous_end
        assert sentence.end <= turn.end
        previous_end = sentence.end


def rows(transcript: Transcript) -> list[tuple[str, str, float | None, float | None]]:
    return [(t.speaker, t.text, t.start_time, t.end_time) for t in transcript.turns]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


# --- WebVTT -------------------------------------------------------------------------------------

ZOOM = """WEBVTT

1
00:00:01.000 --> 00:00:03.500
Jane Doe: Thanks for joining.

2
00:00:03.500 --> 00:00:06.000
Jane Doe: Shall we
start with your role?

3
00:00:06.200 --> 00:00:09.000
Sam Lee: Sure. I lead a team.

4
00:00:09.000 --> 00:00:10.000
Good &amp; <i>busy</i>.
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_zoom_vtt_merges_consecutive_cues_of_a_speaker(tmp_path: Path, newline: str) -> None:
    transcript = read_transcript(write(tmp_path, "zoom.vtt", ZOOM.replace("\n", newline)))

    assert (transcript.id, transcript.source_format) == ("zoom", "vtt")
    assert rows(transcript) == [
        ("Jane Doe", "Thanks for joining. Shall we start with your role?", 1.0, 6.0),
        ("Sam Lee", "Sure. I lead a team.", 6.2, 9.0),
        ("", "Good & busy.", 9.0, 10.0),
    ]
    assert transcript.text == (
        "Jane Doe: Thanks for joining. Shall we start with your role?\n\n"
        "Sam Lee: Sure. I lead a team.\n\n"
        "Good & busy.\n\n"
    )
    assert [(t.start, t.end) for t in transcript.turns] == [(10, 60), (71, 91), (93, 105)]
    assert [s.text for s in split_sentences(transcript)] == [
        "Thanks for joining.",
        "Shall we start with your role?",
        "Sure.",
        "I lead a team.",
        "Good & busy.",
    ]
    assert_consistent(transcript)


TEAMS = """WEBVTT

a1b2c3/12-0
00:00:00.000 --> 00:00:02.000
<v Jane Doe>Hello everyone.</v>

a1b2c3/13-0
00:00:02.000 --> 00:00:04.250
<v Jane Doe>Let's begin.</v>

a1b2c3/14-0
00:00:04.250 --> 00:01:05.000
<v Omar Haddad>Okay: <b>ready</b>.</v>
"""


def test_teams_vtt_reads_voice_spans() -> None:
    transcript = parse_transcript(TEAMS.encode(), "vtt", "teams")

    assert rows(transcript) == [
        ("Jane Doe", "Hello everyone. Let's begin.", 0.0, 4.25),
        ("Omar Haddad", "Okay: ready.", 4.25, 65.0),
    ]
    assert transcript.text == (
        "Jane Doe: Hello everyone. Let's begin.\n\nOmar Haddad: Okay: ready.\n\n"
    )
    assert_consistent(transcript)


def test_a_vtt_without_header_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.vtt", ZOOM.replace("WEBVTT\n\n", "", 1))

    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)

    message = str(caught.value)
    assert "expected WebVTT captions, found no 'WEBVTT' header on the first line" in message
    assert "bad.vtt" in message


def test_a_vtt_with_only_a_header_has_no_speech() -> None:
    with pytest.raises(TranscriptError, match="contains no speech"):
        parse_transcript(b"WEBVTT\n\n", "vtt", "empty")


def test_a_vtt_that_is_not_utf8_names_the_offset() -> None:
    with pytest.raises(TranscriptError, match=r"byte offset 34.*save the file as UTF-8"):
        parse_transcript(b"WEBVTT\n\n00:00.000 --> 00:01.000\nNa\xefve", "vtt", "x")


# --- SRT ----------------------------------------------------------------------------------------

SRT = """1
00:00:01,000 --> 00:00:02,000
<i>Interviewer:</i> Where were you?

2
00:00:02,000 --> 00:00:04,000
{\\an8}Interviewer: Be honest.

3
00:00:04,500 --> 00:00:06,000
At home,
all day.

4
00:00:06,000 --> 00:00:07,000
<b>Really.</b>
"""


def test_srt_with_and_without_speaker_prefixes(tmp_path: Path) -> None:
    transcript = read_transcript(write(tmp_path, "session.srt", SRT))

    assert (transcript.id, transcript.source_format) == ("session", "srt")
    assert rows(transcript) == [
        ("Interviewer", "Where were you? Be honest.", 1.0, 4.0),
        ("", "At home, all day. Really.", 4.5, 7.0),
    ]
    assert (
        transcript.text
        == "Interviewer: Where were you? Be honest.\n\nAt home, all day. Really.\n\n"
    )
    assert [(t.start, t.end) for t in transcript.turns] == [(13, 39), (41, 66)]
    assert_consistent(transcript)


def test_text_that_is_not_srt_is_refused() -> None:
    with pytest.raises(TranscriptError, match="expected SubRip \\(SRT\\) captions, found text"):
        parse_transcript(b"just some words\nwith no cues", "srt", "x")


# --- .docx --------------------------------------------------------------------------------------


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Interview 3, 12 May")
    document.add_paragraph("Interviewer: How did it start?")
    document.add_paragraph("P1: It started slowly.")
    document.add_paragraph("Then it sped up.")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows,
        [("Speaker", "Text"), ("Interviewer", "And then?"), ("P1", "I left.")],
        strict=True,
    ):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_paragraph("Interviewer: Thank you.")
    document.save(str(path))
    return path


def test_docx_paragraphs_and_two_column_tables_read_like_plain_text(tmp_path: Path) -> None:
    transcript = read_transcript(make_docx(tmp_path / "int3.docx"))

    assert (transcript.id, transcript.source_format) == ("int3", "docx")
    assert transcript.text == (
        "Interview 3, 12 May\n"
        "Interviewer: How did it start?\n"
        "P1: It started slowly.\n"
        "Then it sped up.\n"
        "Interviewer: And then?\n"
        "P1: I left.\n"
        "Interviewer: Thank you."
    )
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("", "Interview 3, 12 May"),
        ("Interviewer", "How did it start?"),
        ("P1", "It started slowly.\nThen it sped up."),
        ("Interviewer", "And then?"),
        ("P1", "I left."),
        ("Interviewer", "Thank you."),
    ]
    assert_consistent(transcript)


def test_a_docx_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    path.write_bytes(b"Interviewer: this is plain text")

    with pytest.raises(TranscriptError, match="found data that is not a zip archive"):
        read_transcript(path)


def test_a_zip_without_a_word_body_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")

    with pytest.raises(TranscriptError, match=r"without word/document\.xml"):
        parse_transcript(buffer.getvalue(), "docx", "x")


def test_a_docx_that_unzips_too_large_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/huge.bin", bytes(51 * 1024 * 1024))

    with pytest.raises(TranscriptError, match="unzips to 53477389 bytes, over the limit"):
        parse_transcript(buffer.getvalue(), "docx", "bomb")


def test_a_damaged_docx_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<not a word document")

    with pytest.raises(TranscriptError, match="found a damaged Word document"):
        parse_transcript(buffer.getvalue(), "docx", "x")


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_with_usual_column_names_keeps_each_row(tmp_path: Path) -> None:
    text = (
        "ID,Speaker,Utterance\r\n"
        '1,Interviewer,"How was it?\nBe honest."\r\n'
        "2,P1,Fine.\r\n"
        "3,P1,  Really fine.  \r\n"
        "4,P2,\r\n"
        "5,,Someone else.\r\n"
    )
    transcript = read_transcript(write(tmp_path, "coded.csv", text))

    assert (transcript.id, transcript.source_format) == ("coded", "csv")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("Interviewer", "How was it?\nBe honest."),
        ("P1", "Fine."),
        ("P1", "Really fine."),
        ("", "Someone else."),
    ]
    assert transcript.text == (
        "Interviewer: How was it?\nBe honest.\n\nP1: Fine.\n\nP1: Really fine.\n\nSomeone else.\n\n"
    )
    assert_consistent(transcript)


def test_csv_with_named_columns_and_semicolons(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "who;said;notes\nAna;Hello there.;x\nBo;Hi!;y\n")

    transcript = read_transcript(path, speaker_column="WHO", text_column="said")

    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("Ana", "Hello there."),
        ("Bo", "Hi!"),
    ]
    assert_consistent(transcript)


def test_csv_missing_columns_lists_what_it_found(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "who,said\nAna,Hello.\n")

    with pytest.raises(TranscriptError) as caught:
        read_transcript(path)

    message = str(caught.value)
    assert "found a CSV without a speaker column (speaker/interlocutor/" in message
    assert "its header row has the columns 'who', 'said'" in message
    assert (
        "rename the speaker column to 'speaker', or name it with the speaker_column option"
        in message
    )


def test_csv_named_column_that_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "speaker,text\nAna,Hello.\n")

    with pytest.raises(TranscriptError, match="without a column 'words'"):
        read_transcript(path, text_column="words")


# --- every format -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(TRANSCRIPT_FORMATS), st.binary(max_size=200))
def test_any_bytes_give_a_consistent_transcript_or_a_transcript_error(
    source_format: str, data: bytes
) -> None:
    try:
        transcript = parse_transcript(data, source_format, "fuzz")
    except TranscriptError:
        return
    assert_consistent(transcript)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["vtt", "srt", "csv"]), st.text(max_size=200))
def test_any_text_in_caption_and_table_formats_is_handled(source_format: str, text: str) -> None:
    prefix = {
        "vtt": "WEBVTT\n\n00:00.000 --> 00:01.000\n",
        "srt": "1\n00:00:00,000 --> 00:00:01,000\n",
    }
    data = (prefix.get(source_format, "speaker,text\n") + text).encode("utf-8", "surrogatepass")
    try:
        transcript = parse_transcript(data, source_format, "fuzz")
    except TranscriptError:
        return
    assert_consistent(transcript)
