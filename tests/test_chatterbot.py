"""The ChatterBot corpus (the dev extra's chatterbot-corpus) as a coded-units table."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from codebook import chatterbot
from codebook.chatterbot import NO_CODE_FILES, load_chatterbot
from codebook.datasets import load_dataset
from codebook.errors import CodedDataError, DatasetUnavailableError
from codebook.loader import load_codebook


def test_the_installed_corpus_gives_one_unit_per_opening() -> None:
    pytest.importorskip("chatterbot_corpus", reason="the dev extra's chatterbot-corpus")
    codebook, frame = load_dataset("chatterbot")
    assert codebook.name.startswith("ChatterBot corpus")
    assert len(frame) == 745
    assert frame["text"].is_unique
    assert frame["transcript_id"].is_unique
    counts = Counter(next(iter(codes), "(none)") for codes in frame["codes"])
    assert counts.most_common(2) == [("trivia", 260), ("coding", 96)]
    assert counts["(none)"] == 43  # the small-talk files' openings
    assert set(counts) - {"(none)"} == set(codebook.codable_ids)


def test_small_talk_files_carry_no_code_and_ambiguous_openings_are_dropped(
    tmp_path: Path,
) -> None:
    (tmp_path / "greetings.yml").write_text("conversations:\n- - Hello\n  - Hi\n")
    (tmp_path / "food.yml").write_text(
        "conversations:\n- - do you drink\n  - no\n- - do you drink\n  - yes\n- - Hello\n  - x\n"
    )
    (tmp_path / "trivia.yml").write_text("conversations:\n- - Who   was first?\n  - me\n")
    frame = load_chatterbot(tmp_path)
    coded = dict(zip(frame["text"], frame["codes"], strict=True))
    assert coded == {"do you drink": frozenset({"food"}), "Who was first?": frozenset({"trivia"})}
    assert "greetings" in NO_CODE_FILES
    assert "greetings" not in load_codebook("chatterbot-topics").codable_ids


def test_a_malformed_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "food.yml").write_text("categories: [food]\n")
    with pytest.raises(CodedDataError, match=r"food\.yml: expected a 'conversations' list"):
        load_chatterbot(tmp_path)


def test_a_missing_corpus_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DatasetUnavailableError, match=r"pip install 'intercoder\[dev\]'"):
        chatterbot.corpus_folder()
