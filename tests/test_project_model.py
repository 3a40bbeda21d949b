"""A project model: trained on coded units with context, saved with its card, loaded back with
its weights checked, reading units with the context it was trained with; `intercoder train`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from codebook.coded import CodedUnit, coded_frame
from codebook.coded_csv import write_coded_csv
from codebook.errors import InputError
from codebook.loader import load_codebook
from models.context import encode_units, units_of_frame
from models.encoder import SentenceTransformerEncoder
from models.errors import ModelIntegrityError
from models.finetune import TrainConfig
from models.model_card import CARD_FILE, read_card
from models.project_model import (
    TrainedModel,
    save_project_model,
    train_project_model,
    training_inputs,
)
from service.cli.main import app

CLIENT = load_codebook("annomi-client")
LINES = [
    ("How do you feel about smoking?", "I really want to quit this year.", "change"),
    ("What would help?", "I'm ready to cut down.", "change"),
    ("Anything else?", "I like smoking, it calms me.", "sustain"),
    ("And your drinking?", "I don't see a problem with it.", "sustain"),
    ("Where do you work?", "At the bank on Mondays.", "neutral"),
    ("Family nearby?", "My sister lives in Leeds.", "neutral"),
]
SMALL = TrainConfig(epochs=1, batch_size=4, max_steps=2)


def _frame() -> pd.DataFrame:
    units = [
        CodedUnit(
            transcript_id=f"t{i % 3}",
            unit_id=str(i),
            turn_index=i,
            text=answer,
            codes=frozenset({code}),
            speaker="client",
            previous_text=question,
        )
        for i, (question, answer, code) in enumerate(LINES * 2)
    ]
    return coded_frame(units)


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_project_model(_frame(), CLIENT, SMALL)


@pytest.fixture(scope="module")
def saved(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_project_model(trained, tmp_path_factory.mktemp("models"))


def test_card_names_the_training_data_codebook_and_context(trained: TrainedModel) -> None:
    card = trained.card
    assert card.name == f"intercoder-tuned-{card.training_sha256[:16]}"
    assert card.codebook_version == CLIENT.version
    assert card.context_turns == 1
    assert card.n_units == 12
    assert card.n_groups == 3
    assert trained.embeddings.shape == (12, 384)


def test_training_inputs_carry_speaker_and_previous_turn() -> None:
    assert training_inputs(_frame())[0] == (
        "client: I really want to quit this year. [SEP] How do you feel about smoking?"
    )


def test_saved_model_loads_with_its_card_and_reads_context(
    trained: TrainedModel, saved: Path
) -> None:
    card = read_card(saved)
    assert card is not None
    assert card.weights_sha256
    encoder = SentenceTransformerEncoder(saved)
    assert encoder.context_turns == 1
    assert encoder.model_id.startswith(card.name + "@")
    vectors = encode_units(encoder, units_of_frame(_frame()))
    assert np.allclose(vectors, trained.embeddings, atol=1e-5)


def test_same_data_same_name_and_a_changed_unit_another(trained: TrainedModel) -> None:
    from models.project_model import training_hash

    frame = _frame()
    again = training_hash(training_inputs(frame), frame, CLIENT, SMALL)
    assert again == trained.card.training_sha256
    frame.loc[0, "text"] = "Something else."
    assert training_hash(training_inputs(frame), frame, CLIENT, SMALL) != again


def test_tampered_weights_are_refused(saved: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        SentenceTransformerEncoder(copy)


def test_a_broken_card_is_refused(saved: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    (copy / CARD_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="not a valid intercoder model card"):
        SentenceTransformerEncoder(copy)


def test_units_coded_twice_are_refused() -> None:
    frame = _frame()
    with pytest.raises(InputError, match="one coding per unit"):
        train_project_model(pd.concat([frame, frame.iloc[:1]]), CLIENT, SMALL)


def test_cli_train_writes_a_model_folder(tmp_path: Path) -> None:
    coded = tmp_path / "coded.csv"
    write_coded_csv(_frame(), coded)
    out = tmp_path / "models"
    result = CliRunner().invoke(
        app,
        ["train", "--data", str(coded), "--codebook", "annomi-client", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    folders = list(out.glob("intercoder-tuned-*"))
    assert len(folders) == 1
    assert (folders[0] / CARD_FILE).is_file()
    assert f"wrote {folders[0]}" in result.output


def test_cli_train_on_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "--data", str(tmp_path / "none.csv"), "--codebook", "annomi-client"]
    )
    assert result.exit_code == 2
    assert "neither a file nor a known dataset" in result.output


def test_cli_train_on_a_stored_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.settings import get_settings
    from tests.test_refi_cli import study_qdpx

    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    try:
        study = tmp_path / "study.qdpx"
        study.write_bytes(study_qdpx())
        runner = CliRunner()
        assert runner.invoke(app, ["import", str(study), "--project", "study"]).exit_code == 0
        result = runner.invoke(app, ["train", "--project", "study"])
        assert result.exit_code == 0, result.output
        assert list((tmp_path / "data" / "models").glob("intercoder-tuned-*/" + CARD_FILE))
        missing = runner.invoke(app, ["train", "--project", "nobody"])
        assert missing.exit_code == 2
        both = runner.invoke(app, ["train", "--project", "study", "--data", "swda"])
        assert both.exit_code == 2
        assert "either --data" in both.output
    finally:
        get_settings.cache_clear()


def test_cli_train_and_evaluate_take_the_number_of_trained_layers(tmp_path: Path) -> None:
    coded = tmp_path / "coded.csv"
    write_coded_csv(_frame(), coded)
    common = ["--data", str(coded), "--codebook", "annomi-client", "--trained-layers", "1"]
    trained = CliRunner().invoke(app, ["train", *common, "--out", str(tmp_path / "models")])
    assert trained.exit_code == 0, trained.output
    (folder,) = (tmp_path / "models").glob("intercoder-tuned-*")
    assert read_card(folder).train_config["trained_layers"] == 1

    out = tmp_path / "report"
    evaluated = CliRunner().invoke(
        app,
        [
            *("evaluate", *common, "--method", "tuned", "--folds", "2", "--no-learning-curve"),
            "--out",
            str(out),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [result["method"] for result in report["methods"]] == ["tuned"]
    assert "tuned methods fine-tuned the top 1 of MiniLM's 6 layers" in report["notes"]
    too_many = CliRunner().invoke(app, ["train", *common[:4], "--trained-layers", "7"])
    assert too_many.exit_code == 2
