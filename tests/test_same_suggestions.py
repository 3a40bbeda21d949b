"""One coder behind every entry point: the same transcript, codebook and coded units give the
same suggestions (codes, scores, evidence ids) through the command line, the HTTP service,
the in-process use case, and the evaluation harness's fit on the same units.

Every path runs with the deterministic hashing encoder; exemplar ids agree because a coded CSV's
rows are numbered from 1, as a new project numbers the exemplars uploaded from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from codebook.coded import CodedUnit, coded_frame
from codebook.coded_csv import read_coded_csv, write_coded_csv
from codebook.loader import load_codebook
from codebook.transcripts import read_transcript, split_sentences
from eval.crossval import prepare
from eval.methods import SuggesterMethod
from models.methods import METHOD_NAMES
from models.suggestions import UnitSuggestion
from models.testing import HashingEncoder
from service.app.suggesting import suggest_offline
from service.cli.main import app
from service.settings import get_settings
from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    TRANSCRIPT_TXT,
    create_project,
    running_service,
    service_settings,
)

# (code, score) of every ranked code, and the evidence ids for and against each
Normalised = list[tuple[list[str], list[tuple[str, float, list[int], list[int]]]]]
PLACES = 6


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    codebook = tmp_path / "threats.yaml"
    codebook.write_text(yaml.safe_dump(SMALL_CODEBOOK), encoding="utf-8")
    coded = tmp_path / "coded.csv"
    units = [
        CodedUnit(transcript_id=row["transcript_id"], unit_id=str(i), turn_index=i,
                  text=row["text"], codes=frozenset(row["codes"]))
        for i, row in enumerate(CODED_ROWS)
    ]  # fmt: skip
    write_coded_csv(coded_frame(units), coded)
    transcript = tmp_path / "interview.txt"
    transcript.write_text(TRANSCRIPT_TXT, encoding="utf-8")
    yield {"codebook": codebook, "coded": coded, "transcript": transcript}
    get_settings.cache_clear()


def _normalised_units(units: list[UnitSuggestion]) -> Normalised:
    return [
        (
            unit.suggested,
            [
                (
                    code.code,
                    round(code.score, PLACES),
                    [e.exemplar_id for e in code.supporting],
                    [e.exemplar_id for e in code.opposing],
                )
                for code in unit.codes
            ],
        )
        for unit in units
    ]


def _in_process(files: dict[str, Path], method: str) -> Normalised:
    book = load_codebook(str(files["codebook"]))
    sentences = split_sentences(read_transcript(files["transcript"]))
    coded = read_coded_csv(files["coded"], book)
    return _normalised_units(
        suggest_offline(HashingEncoder(), book, sentences, coded, method=method).units
    )


def _cli(files: dict[str, Path], method: str) -> Normalised:
    arguments = ["suggest", str(files["transcript"]), "--codebook", str(files["codebook"])]
    arguments += ["--exemplars", str(files["coded"]), "--method", method, "--format", "json"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    return _normalised_units([UnitSuggestion.model_validate(row["suggestion"]) for row in rows])


def _http(files: dict[str, Path], method: str, data_dir: Path, *, coded: bool = True) -> Normalised:
    with running_service(service_settings(data_dir)) as client:
        create_project(client)
        if coded:
            with files["coded"].open("rb") as upload:
                response = client.post("/v1/projects/p1/exemplars/csv", files={"file": upload})
            assert response.status_code == 201, response.text
            assert response.json()["ids"] == list(range(1, len(CODED_ROWS) + 1))
        with files["transcript"].open("rb") as upload:
            response = client.post("/v1/projects/p1/transcripts", files={"file": upload})
        assert response.status_code == 201, response.text
        transcript_id = response.json()["id"]
        response = client.post(
            f"/v1/projects/p1/transcripts/{transcript_id}/suggestions", json={"method": method}
        )
        assert response.status_code == 200, response.text
    return [
        (
            unit["suggested"],
            [
                (
                    code["code"],
                    round(code["score"], PLACES),
                    [e["exemplar_id"] for e in code["evidence"]],
                    [e["exemplar_id"] for e in code["opposing"]],
                )
                for code in unit["suggestions"]
            ],
        )
        for unit in response.json()["units"]
    ]


def _harness(files: dict[str, Path], method: str) -> list[tuple[list[str], dict[str, float]]]:
    """The harness's fit on the coded units, scoring the transcript's sentences as test rows."""
    book = load_codebook(str(files["codebook"]))
    coded = read_coded_csv(files["coded"], book)
    sentences = split_sentences(read_transcript(files["transcript"]))
    test_units = [
        CodedUnit(
            transcript_id="new",
            unit_id=str(s.index),
            turn_index=s.turn_index,
            text=s.text,
            codes=frozenset(),
        )
        for s in sentences
    ]
    frame = pd.concat([coded, coded_frame(test_units)], ignore_index=True)
    data = prepare(frame, book, HashingEncoder())
    train = np.arange(len(coded), dtype=np.intp)
    test = np.arange(len(coded), len(frame), dtype=np.intp)
    prediction = SuggesterMethod(method).fit_predict(data, train, test)
    codes = book.codable_ids
    return [
        (
            sorted(codes[j] for j in np.flatnonzero(decided)),
            {code: round(float(score), PLACES) for code, score in zip(codes, scores, strict=True)},
        )
        for decided, scores in zip(prediction.decided, prediction.scores, strict=True)
    ]


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_cli_and_http_give_the_in_process_suggestions(
    files: dict[str, Path], method: str, tmp_path: Path
) -> None:
    expected = _in_process(files, method)
    assert expected, "the transcript has sentences"
    assert any(codes for codes, _ in expected), "something is suggested at all"
    assert _cli(files, method) == expected
    assert _http(files, method, tmp_path / "served") == expected


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_the_harness_fits_the_same_coder(files: dict[str, Path], method: str) -> None:
    expected = [
        (sorted(codes), {code: score for code, score, _, _ in ranked})
        for codes, ranked in _in_process(files, method)
    ]
    assert _harness(files, method) == expected


def test_the_cold_start_is_the_same_through_cli_http_and_in_process(
    files: dict[str, Path], tmp_path: Path
) -> None:
    book = load_codebook(str(files["codebook"]))
    sentences = split_sentences(read_transcript(files["transcript"]))
    expected = _normalised_units(suggest_offline(HashingEncoder(), book, sentences, None).units)
    arguments = ["suggest", str(files["transcript"]), "--codebook", str(files["codebook"])]
    result = CliRunner().invoke(app, [*arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    got = _normalised_units([UnitSuggestion.model_validate(row["suggestion"]) for row in rows])
    assert got == expected
    assert _http(files, "linear", tmp_path / "served", coded=False) == expected
    evidence = [i for _, ranked in got for _, _, ids, _ in ranked for i in ids]
    assert evidence
    assert all(i < 0 for i in evidence), "codebook texts carry negative ids"
