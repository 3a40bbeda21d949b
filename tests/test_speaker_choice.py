"""Whose talk is coded, through the command line and the HTTP API: the codebook's speaker
roles by default, the caller's --speakers / --skip-speakers (code_speakers / skip_speakers)
instead; a skipped unit keeps its place in the answer, marked ``skipped``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from service.cli.main import app
from service.settings import get_settings
from tests.test_service_support import (
    SMALL_CODEBOOK,
    TRANSCRIPT_TXT,
    create_project,
    running_service,
    service_settings,
)

# TRANSCRIPT_TXT: Interviewer, then P3 (two sentences), then Interviewer again.
SPEAKERS = ["Interviewer", "P3", "P3", "Interviewer"]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    skipping = {**SMALL_CODEBOOK, "speakers": {"skip": ["interviewer"]}}
    paths = {
        "plain": tmp_path / "threats.yaml",
        "skipping": tmp_path / "threats-skipping.yaml",
        "transcript": tmp_path / "interview.txt",
    }
    paths["plain"].write_text(yaml.safe_dump(SMALL_CODEBOOK), encoding="utf-8")
    paths["skipping"].write_text(yaml.safe_dump(skipping), encoding="utf-8")
    paths["transcript"].write_text(TRANSCRIPT_TXT, encoding="utf-8")
    yield paths
    get_settings.cache_clear()


def _cli_skipped(files: dict[str, Path], codebook: str, *extra: str) -> list[bool]:
    arguments = ["suggest", str(files["transcript"]), "--codebook", str(files[codebook])]
    result = CliRunner().invoke(app, [*arguments, "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["sentence"]["speaker"] for row in rows] == SPEAKERS
    return [row["suggestion"]["skipped"] for row in rows]


def test_the_codebook_roles_skip_the_interviewer_unless_the_user_says_otherwise(
    files: dict[str, Path],
) -> None:
    assert _cli_skipped(files, "plain") == [False] * 4
    assert _cli_skipped(files, "skipping") == [True, False, False, True]
    assert _cli_skipped(files, "skipping", "--skip-speakers", "") == [False] * 4
    assert _cli_skipped(files, "plain", "--skip-speakers", "INTERVIEWER ") == [
        True,
        False,
        False,
        True,
    ]


def test_only_the_named_speakers_are_coded(files: dict[str, Path]) -> None:
    assert _cli_skipped(files, "plain", "--speakers", "Interviewer") == [False, True, True, False]
    assert _cli_skipped(files, "skipping", "--speakers", "P3,Interviewer") == [False] * 4


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--speakers", "Nobody"], "expected one of: Interviewer, P3"),
        (["--speakers", "P3", "--skip-speakers", "p3"], "both to be coded and to be skipped"),
    ],
)
def test_a_bad_speaker_choice_is_one_error_line(
    files: dict[str, Path], extra: list[str], expected: str
) -> None:
    arguments = ["suggest", str(files["transcript"]), "--codebook", str(files["plain"])]
    result = CliRunner().invoke(app, [*arguments, *extra])
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error:")
    assert expected in line


def _http_units(client: Any, transcript_id: str, **body: Any) -> list[dict[str, Any]]:
    response = client.post(f"/v1/projects/p1/transcripts/{transcript_id}/suggestions", json=body)
    assert response.status_code == 200, response.text
    units: list[dict[str, Any]] = response.json()["units"]
    return units


def test_the_api_takes_the_same_choice(files: dict[str, Path], tmp_path: Path) -> None:
    skipping = {**SMALL_CODEBOOK, "speakers": {"skip": ["Interviewer"]}}
    with running_service(service_settings(tmp_path / "served")) as client:
        create_project(client, codebook=skipping)
        with files["transcript"].open("rb") as upload:
            response = client.post("/v1/projects/p1/transcripts", files={"file": upload})
        assert response.status_code == 201, response.text
        transcript = response.json()["id"]
        units = _http_units(client, transcript)
        assert [unit["skipped"] for unit in units] == [True, False, False, True]
        skipped = units[0]
        assert (skipped["suggested"], skipped["suggestions"], skipped["no_code"]) == ([], [], False)
        assert units[1]["suggestions"], "a coded speaker's unit is scored"
        everyone = _http_units(client, transcript, skip_speakers=[])
        assert [unit["skipped"] for unit in everyone] == [False] * 4
        only = _http_units(client, transcript, code_speakers=["interviewer"])
        assert [unit["skipped"] for unit in only] == [False, True, True, False]
        response = client.post(
            f"/v1/projects/p1/transcripts/{transcript}/suggestions",
            json={"code_speakers": ["Nobody"]},
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "expected one of" in response.json()["detail"]
        # a page is checked against the whole transcript: P3 speaks, just not on this page
        page = _http_units(client, transcript, offset=3, limit=1, code_speakers=["P3"])
        assert [unit["skipped"] for unit in page] == [True]
        response = client.post(
            f"/v1/projects/p1/transcripts/{transcript}/suggestions", json={"code_speakers": []}
        )
        assert response.status_code == 422, "an empty list of speakers to code codes nobody"
