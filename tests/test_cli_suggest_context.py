"""``intercoder suggest --model``: the model folder it loads, and the context it reads with.

Training a real project model is too slow for the suite; the ContextHashingEncoder of
models/testing.py poses as one (``context_turns = 1``) and records what it was given.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from models.context import UnitContext, contextual_text
from models.encoder import Encoder, EncoderBackend
from models.testing import ContextHashingEncoder, HashingEncoder
from service.cli.suggest import suggest
from service.settings import Settings, get_settings
from tests.test_service_support import TRANSCRIPT_TXT

runner = CliRunner()
app = typer.Typer()
app.command()(suggest)

SENTENCES = [
    ("Interviewer", "How do you train your models?"),
    ("P3", "We retrain the model every week."),
    ("P3", "Someone could poison the training data."),
    ("Interviewer", "Thanks."),
]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "interview.txt"
    path.write_text(TRANSCRIPT_TXT, encoding="utf-8")
    return path


def _fake_model(monkeypatch: pytest.MonkeyPatch, encoder: HashingEncoder) -> list[Path | None]:
    """Make build_encoder hand out ``encoder``; returns the model paths it was asked for."""
    asked: list[Path | None] = []

    def build(
        settings: Settings | None = None,
        *,
        model_path: Path | None = None,
        backend: EncoderBackend | None = None,
        cached: bool = True,
    ) -> Encoder:
        asked.append(model_path)
        return encoder

    monkeypatch.setattr("service.app.runtime.build_encoder", build)
    return asked


def _suggest(transcript: Path, *options: str) -> None:
    arguments = [str(transcript), "--codebook", "interview", "--format", "json", *options]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output


def test_a_project_model_reads_each_sentence_with_speaker_and_previous_sentence(
    transcript: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = ContextHashingEncoder()
    asked = _fake_model(monkeypatch, encoder)
    folder = tmp_path / "project-model"
    folder.mkdir()  # the command checks the path exists before loading anything
    _suggest(transcript, "--model", str(folder))
    assert asked == [folder]
    previous = ["", *(text for _, text in SENTENCES[:-1])]
    # The interview codebook skips the interviewer: their sentences are not embedded, but
    # they are still the previous sentence a participant's sentence is read with.
    expected = [
        contextual_text(UnitContext(text, speaker, before))
        for (speaker, text), before in zip(SENTENCES, previous, strict=True)
        if speaker != "Interviewer"
    ]
    assert encoder.calls[-1] == expected
    assert expected[0] == (
        "P3: We retrain the model every week. [SEP] How do you train your models?"
    )


def test_without_model_the_configured_one_reads_the_text_alone(
    transcript: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = HashingEncoder()
    asked = _fake_model(monkeypatch, encoder)
    _suggest(transcript, "--skip-speakers", "")  # everyone, the interviewer too
    assert asked == [None]
    assert encoder.calls[-1] == [text for _, text in SENTENCES]


def test_a_missing_model_folder_is_one_line_and_exit_2(transcript: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    result = runner.invoke(
        app, [str(transcript), "--codebook", "interview", "--model", str(missing)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --model {missing} does not exist")
    assert result.stderr.count("\n") == 1


def test_a_folder_without_weights_is_one_line_and_exit_2(transcript: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-model"
    empty.mkdir()
    result = runner.invoke(app, [str(transcript), "--codebook", "interview", "--model", str(empty)])
    assert result.exit_code == 2
    assert "has no weights" in result.stderr
    assert result.stderr.count("\n") == 1
