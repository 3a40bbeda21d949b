"""The data warnings reach users: ``intercoder suggest`` and ``intercoder code`` print them on
stderr, the API's suggestions and batch summaries carry them (``models.data_warnings``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.data_warnings import COLD_START_MESSAGE
from service.cli.main import app
from service.settings import get_settings
from tests.test_cli import CODED_CSV, ZOOM_VTT
from tests.test_service_support import (
    CODED_ROWS,
    add_exemplars,
    checked,
    create_project,
    running_service,
    service_settings,
)

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    (tmp_path / "interview.vtt").write_text(ZOOM_VTT)
    (tmp_path / "coded.csv").write_text(CODED_CSV)
    yield {"transcript": tmp_path / "interview.vtt", "coded": tmp_path / "coded.csv"}
    get_settings.cache_clear()


def test_suggest_warns_of_thin_codes_with_their_counts(files: dict[str, Path]) -> None:
    arguments = ["--codebook", "interview", "--exemplars", str(files["coded"])]
    result = runner.invoke(app, ["suggest", str(files["transcript"]), *arguments])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    # 9 coded sentences: E.1 carried by 3, A.1, A.2, B.1 and L.3 by 1, the other 70 by none
    assert line.startswith(
        "warning: 75 of 75 codes have fewer than 10 coded sentences "
        "(A.1: 1, A.2: 1, B.1: 1, E.1: 3, L.3: 1; 70 with none): code about 743 more"
    )
    assert "warning" not in result.stdout


def test_suggest_says_a_cold_start_is_one(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["suggest", str(files["transcript"]), "--codebook", "interview"])
    assert result.exit_code == 0, result.output
    assert f"note: {COLD_START_MESSAGE}" in result.stderr.splitlines()


def test_code_warns_and_keeps_the_warnings_in_its_summary(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "coded"
    arguments = ["--codebook", "interview", "--exemplars", str(files["coded"]), "--quiet"]
    result = runner.invoke(app, ["code", str(files["transcript"]), "--out", str(out), *arguments])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("warning: 75 of 75 codes") for line in result.stderr.splitlines())
    summary = json.loads((out / "_summary.json").read_text())
    assert [warning["kind"] for warning in summary["warnings"]] == ["thin_codes"]
    assert {"code": "E.1", "coded": 3, "more_needed": 7} in summary["warnings"][0]["codes"]


def test_the_api_answers_with_warnings(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        body = {"sentences": ["Someone could poison the data."]}
        cold = checked(client.post("/v1/projects/p1/suggestions", json=body))
        assert cold["warnings"] == [
            {"kind": "cold_start", "message": COLD_START_MESSAGE, "codes": []}
        ]
        add_exemplars(client, "p1", CODED_ROWS)
        answer = checked(client.post("/v1/projects/p1/suggestions", json=body))
        (thin,) = answer["warnings"]
        assert thin["kind"] == "thin_codes"
        # CODED_ROWS: 2 sentences of T.1, 2 of T.2, 2 of P
        assert thin["codes"] == [
            {"code": code, "coded": 2, "more_needed": 8} for code in ("T.1", "T.2", "P")
        ]
        assert thin["message"].startswith("3 of 3 codes have fewer than 10 coded sentences")
