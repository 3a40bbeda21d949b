"""Sentence splitting, spaCy pipelines, and properties of parsing and splitting generated text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codebook.errors import DatasetUnavailableError, TranscriptError
from codebook.transcripts import Segmenter, parse_transcript, split_sentences
from tests.test_transcripts import LABELLED, assert_consistent, turn_rows


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


# --- sentences ----------------------------------------------------------------------------------


def test_sentences_are_split_per_turn_with_offsets(segmenter: Segmenter) -> None:
    text = "Interviewer: How did you start?  Tell me.\r\nP1: I started in 2019. Dr. Lee helped!\r\n"
    transcript = parse_transcript(text.encode(), "text", "t9")

    sentences = segmenter.split(transcript)

    assert [(s.turn_index, s.speaker, s.text, s.start, s.end) for s in sentences] == [
        (0, "Interviewer", "How did you start?", 13, 31),
        (0, "Interviewer", "Tell me.", 33, 41),
        (1, "P1", "I started in 2019.", 47, 65),
        (1, "P1", "Dr. Lee helped!", 66, 81),
    ]
    assert [s.index for s in sentences] == [0, 1, 2, 3]
    assert {s.transcript_id for s in sentences} == {"t9"}
    assert_consistent(transcript, sentences)


def test_a_blank_line_inside_a_turn_ends_a_sentence(segmenter: Segmenter) -> None:
    transcript = parse_transcript(b"P1: no full stop here\r\n\r\nand a new thought", "text", "t")

    assert [s.text for s in segmenter.split(transcript)] == [
        "no full stop here",
        "and a new thought",
    ]


def test_split_sentences_matches_the_segmenter(segmenter: Segmenter) -> None:
    transcript = parse_transcript(LABELLED.encode(), "text", "t")

    sentences = split_sentences(transcript)

    assert sentences == segmenter.split(transcript)
    assert [s.text for s in sentences][:4] == [
        "Interview 7, recorded on site.",
        "How did you start?",
        "Tell me everything.",
        "I started in 2019.",
    ]
    assert_consistent(transcript, sentences)


def test_a_pipeline_that_is_not_installed_is_unavailable() -> None:
    with pytest.raises(DatasetUnavailableError) as caught:
        Segmenter("en_core_web_nonexistent_pipeline")

    message = str(caught.value)
    assert "'en_core_web_nonexistent_pipeline' is not installed" in message
    assert "python -m spacy download en_core_web_nonexistent_pipeline" in message
    assert not isinstance(caught.value, TranscriptError)


# --- properties ---------------------------------------------------------------------------------

WORDS = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
PUNCT = st.sampled_from(["", ".", "?", "!", ",", "...", " -"])
LINE = st.lists(st.tuples(WORDS, PUNCT), min_size=1, max_size=8).map(
    lambda pairs: " ".join(word + punct for word, punct in pairs)
)
LINES = st.lists(LINE, min_size=1, max_size=4)
NEWLINE = st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n"])
COLONS = st.sampled_from([": ", ":\n", ":  ", " : "])
# A dash label needs a digit (or to recur) to count, so only numbered speakers use dashes here.
TURN = st.one_of(
    st.tuples(
        st.sampled_from(["S1", "P3"]), COLONS | st.sampled_from([" - ", " \u2013 "]), LINES, NEWLINE
    ),
    st.tuples(
        st.sampled_from(["Interviewer", "Dr. Smith", "Maria de la Cruz", ""]),
        COLONS,
        LINES,
        NEWLINE,
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TURN, min_size=1, max_size=6), st.booleans())
def test_generated_transcripts_keep_speakers_texts_and_offsets(
    turns: list[tuple[str, str, list[str], str]], bom: bool
) -> None:
    # The unlabelled turn can only come first: elsewhere its lines continue the turn before.
    turns = [turn for number, turn in enumerate(turns) if turn[0] or number == 0]
    pieces = []
    for speaker, separator, lines, newline in turns:
        label = f"{speaker}{separator}" if speaker else ""
        pieces.append(label + newline.join(lines) + newline)
    text = "".join(pieces)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()

    transcript = parse_transcript(data, "text", "gen")
    sentences = split_sentences(transcript)

    assert transcript.text == text
    assert turn_rows(transcript) == [
        (speaker, newline.join(lines)) for speaker, _, lines, newline in turns
    ]
    assert_consistent(transcript, sentences)
    assert {s.turn_index for s in sentences} == set(range(len(turns)))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_consistent_transcript_or_a_transcript_error(text: str) -> None:
    try:
        transcript = parse_transcript(text.encode("utf-8", "surrogatepass"), "text", "any")
    except TranscriptError:
        return
    assert_consistent(transcript, split_sentences(transcript))


def test_a_named_pipeline_folder_is_loaded_and_used(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "pipeline")
    transcript = parse_transcript(b"P1: One. Two!", "text", "t")

    sentences = Segmenter(str(tmp_path / "pipeline")).split(transcript)

    assert [(s.text, s.start, s.end) for s in sentences] == [("One.", 4, 8), ("Two!", 9, 13)]


def test_a_pipeline_that_cannot_split_sentences_is_refused(tmp_path: Path) -> None:
    import spacy

    spacy.blank("en").to_disk(tmp_path / "bare")

    with pytest.raises(TranscriptError, match="cannot split sentences: expected a parser"):
        Segmenter(str(tmp_path / "bare"))
