"""What a new user meets in the first hour: small data, a spreadsheet's own CSV dialect, a
narrow terminal, files colleagues can read, and a report that says what each method is."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.methods import SuggesterMethod, docstring_summary
from service.cli.main import app
from service.settings import get_settings
from tests.test_cli import CODED_CSV, ZOOM_VTT

runner = CliRunner()


@pytest.fixture(autouse=True)
def hashing_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def semicolon_csv() -> str:
    """CODED_CSV as a spreadsheet in a comma-decimal locale saves it: ';' between fields."""
    rows = [line.split(",") for line in CODED_CSV.splitlines()]
    rows = [[*cells[:-1], f'"{cells[-1]}"' if ";" in cells[-1] else cells[-1]] for cells in rows]
    return "\n".join(";".join(cells) for cells in rows) + "\n"


def test_the_readme_example_evaluates_with_fewer_transcripts_than_folds(
    tmp_path: Path, umask_022: None
) -> None:
    """Three transcripts and the default 5 folds: 3 folds, a note saying so, and report files
    with the umask's mode (0644), not 0600."""
    coded = tmp_path / "coded.csv"
    coded.write_text(CODED_CSV)
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["evaluate", "--data", str(coded), "--codebook", "interview", "--out", str(out),
         "--method", "knn", "--no-learning-curve"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: 5 folds asked but the data has 3 transcripts" in result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["folds"]["k"] == 3
    assert any("3 folds" in note for note in report["notes"])
    assert mode(out / "report.json") == mode(out / "report.html") == 0o644


def test_a_semicolon_csv_is_read(tmp_path: Path) -> None:
    transcript = tmp_path / "talk.vtt"
    transcript.write_text(ZOOM_VTT)
    coded = tmp_path / "coded.csv"
    coded.write_text(semicolon_csv())
    result = runner.invoke(
        app,
        ["suggest", str(transcript), "--codebook", "interview", "--exemplars", str(coded),
         "--method", "knn", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 4


def test_the_suggest_table_wraps_to_a_narrow_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    transcript = tmp_path / "talk.vtt"
    transcript.write_text(ZOOM_VTT)
    result = runner.invoke(app, ["suggest", str(transcript), "--codebook", "interview"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # the table; the data warnings go to stderr
    assert max(map(len, lines)) <= 50
    # A wrapped sentence continues under its text, not under the sentence number.
    assert any(line.startswith("     ") and not line.lstrip().startswith("->") for line in lines)


def test_written_files_respect_the_umask(tmp_path: Path, umask_022: None) -> None:
    book = tmp_path / "book.qdc"
    assert runner.invoke(app, ["export", "--codebook", "interview", "-o", str(book)]).exit_code == 0
    back = tmp_path / "book.yaml"
    imported = runner.invoke(app, ["import", str(book), "--codebook-out", str(back)])
    assert imported.exit_code == 0, imported.output
    assert mode(book) == mode(back) == 0o644


def test_the_report_gives_a_method_summary_whole() -> None:
    """The linear head's summary wraps onto a second docstring line; the report showed the
    first line alone, cut after "the inverse"."""
    description = SuggesterMethod("linear").description
    assert description.endswith("left at convergence.")
    assert "``" not in description
    assert docstring_summary("One line\n    goes on.\n\n    Details.") == "One line goes on."
