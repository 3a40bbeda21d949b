"""The shipped background set and interview sample: well-formed, shipped, and no leakage."""

from __future__ import annotations

import csv
import re
from importlib import resources

from codebook.background import load_background, parse_background
from codebook.loader import load_codebook
from codebook.transcripts import read_transcript, split_sentences

SAMPLES = resources.files("codebook").joinpath("data", "samples")


def normalised(text: str) -> str:
    """Case, punctuation and spacing ignored: "Mm-hmm." and "mm hmm" are the same text."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def gold_rows() -> list[dict[str, str]]:
    text = SAMPLES.joinpath("interview-sample-gold.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_background_is_a_few_hundred_distinct_sentences_in_groups() -> None:
    background = load_background()
    assert 150 <= len(background) <= 300
    texts = [normalised(sentence.text) for sentence in background]
    assert len(set(texts)) == len(texts)
    assert 5 <= len({sentence.group for sentence in background}) <= 20


def test_parse_background_skips_comments_and_groups_by_blank_lines() -> None:
    parsed = parse_background("# header\n\nYeah.\n  Right. \n\n\n# next\nHi.\n")
    assert [s.text for s in parsed] == ["Yeah.", "Right.", "Hi."]
    assert parsed[0].group == parsed[1].group != parsed[2].group


def test_evaluation_sample_shares_no_sentence_with_the_background() -> None:
    background = {normalised(sentence.text) for sentence in load_background()}
    overlap = [row["text"] for row in gold_rows() if normalised(row["text"]) in background]
    assert overlap == []


def test_gold_file_matches_the_transcript_sentence_by_sentence() -> None:
    with resources.as_file(SAMPLES.joinpath("interview-sample.txt")) as path:
        sentences = split_sentences(read_transcript(path))
    rows = gold_rows()
    assert [(s.speaker, s.text) for s in sentences] == [(r["speaker"], r["text"]) for r in rows]
    book = load_codebook("interview")
    for row in rows:
        codes = [code for code in row["codes"].split(";") if code]
        assert row["kind"] in {"backchannel", "prompt", "coded"}
        assert (row["kind"] == "coded") == bool(codes), row
        assert not book.code_set_problems(codes), row
