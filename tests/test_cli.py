"""The ``intercoder`` command line, run as a user would (Typer's runner, real files)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.suggesters import DEFAULT_METHOD
from service.cli.main import app
from service.settings import get_settings

runner = CliRunner()

ZOOM_VTT = textwrap.dedent(
    """\
    WEBVTT

    1
    00:00:01.000 --> 00:00:04.000
    Interviewer: Thanks for joining. How do you train your models?

    2
    00:00:04.500 --> 00:00:09.000
    P3: We retrain every week on customer data.

    3
    00:00:09.000 --> 00:00:12.000
    P3: Honestly, nobody would attack a small company like ours.
    """
)

CODED_CSV = textwrap.dedent(
    """\
    transcript_id,text,codes
    t1,Someone could poison our training data with fake samples.,A.1
    t1,We retrain the model every week.,E.1;B.1
    t1,I had coffee this morning.,
    t2,Attackers could fool the classifier with crafted inputs.,A.2
    t2,We retrain whenever new data arrives.,E.1
    t2,Thanks for having me.,
    t3,Nobody would bother attacking us.,L.3
    t3,The training runs on our own servers.,E.1
    t3,Let us start.,
    """
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("codebook", "transcript", "suggest", "evaluate"):
        assert command in result.output


def test_codebook_show_and_validate() -> None:
    shown = runner.invoke(app, ["codebook", "show", "interview"])
    assert shown.exit_code == 0
    assert "75 codes, 12 categories" in shown.output
    assert "A.1" in shown.output
    as_json = json.loads(
        runner.invoke(app, ["codebook", "show", "swda", "--format", "json"]).output
    )
    assert len(as_json["codes"]) == 42
    assert len(as_json["version"]) == 16
    assert runner.invoke(app, ["codebook", "validate", "drawing"]).output.startswith("ok: ")


def test_codebook_validate_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    book = tmp_path / "bad.yaml"
    book.write_text("name: x\ncodes:\n  - {id: a, name: ''}\n  - {id: b, name: b, parent: z}\n")
    result = runner.invoke(app, ["codebook", "validate", str(book)])
    assert result.exit_code == 2
    assert f"{book}:3: code 'a': 'name' must be a non-empty string" in result.stdout
    assert f"{book}:4: code 'b': unknown parent 'z'" in result.stdout
    assert "error:" in result.stderr


def test_transcript_split_zoom_vtt(tmp_path: Path) -> None:
    path = tmp_path / "interview.vtt"
    path.write_text(ZOOM_VTT)
    result = runner.invoke(app, ["transcript", "split", str(path), "--format", "json"])
    assert result.exit_code == 0
    sentences = json.loads(result.output)
    assert [(s["speaker"], s["text"]) for s in sentences] == [
        ("Interviewer", "Thanks for joining."),
        ("Interviewer", "How do you train your models?"),
        ("P3", "We retrain every week on customer data."),
        ("P3", "Honestly, nobody would attack a small company like ours."),
    ]
    table = runner.invoke(app, ["transcript", "split", str(path)]).output
    assert "2 turns, 4 sentences" in table
    assert "[" in table


def test_unreadable_transcript_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.vtt"
    path.write_text("not captions at all\n")
    result = runner.invoke(app, ["transcript", "split", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "WEBVTT" in result.stderr


@pytest.mark.slow
def test_suggest_with_exemplars_and_cold_start(tmp_path: Path) -> None:
    transcript = tmp_path / "interview.vtt"
    transcript.write_text(ZOOM_VTT)
    coded = tmp_path / "coded.csv"
    coded.write_text(CODED_CSV)
    by_default = runner.invoke(
        app,
        ["suggest", str(transcript), "--codebook", "interview", "--exemplars", str(coded),
         "--format", "json"],
    )  # fmt: skip
    assert by_default.exit_code == 0, by_default.output
    assert {row["suggestion"]["method"] for row in json.loads(by_default.stdout)} == {
        DEFAULT_METHOD
    }
    result = runner.invoke(
        app,
        ["suggest", str(transcript), "--codebook", "interview", "--exemplars", str(coded),
         "--format", "json", "--method", "knn"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4
    retrain = rows[2]["suggestion"]
    assert retrain["method"] == "knn"
    assert "E.1" in retrain["suggested"]
    e1 = next(code for code in retrain["codes"] if code["code"] == "E.1")
    assert "retrain" in e1["supporting"][0]["text"].lower()

    cold = runner.invoke(app, ["suggest", str(transcript), "--codebook", "interview"])
    assert cold.exit_code == 0, cold.output
    assert "->" in cold.output

    refused = runner.invoke(
        app, ["suggest", str(transcript), "--codebook", "interview", "--method", "linear"]
    )
    assert refused.exit_code == 2
    assert "needs --exemplars" in refused.stderr


def test_suggest_reports_unknown_codes_in_exemplars(tmp_path: Path) -> None:
    transcript = tmp_path / "interview.vtt"
    transcript.write_text(ZOOM_VTT)
    coded = tmp_path / "coded.csv"
    coded.write_text("transcript_id,text,codes\nt1,hello,Z.9\nt1,there,A.1;Q.1\n")
    result = runner.invoke(
        app, ["suggest", str(transcript), "--codebook", "interview", "--exemplars", str(coded)]
    )
    assert result.exit_code == 2
    assert "Z.9" in result.stderr
    assert "Q.1" in result.stderr


@pytest.mark.slow
def test_evaluate_writes_json_and_html(tmp_path: Path) -> None:
    coded = tmp_path / "coded.csv"
    coded.write_text(CODED_CSV)
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["evaluate", "--data", str(coded), "--codebook", "interview", "--out", str(out),
         "--folds", "3", "--method", "knn", "--method", "majority", "--no-learning-curve"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert [m["method"] for m in report["methods"]] == ["knn", "majority"]
    assert report["kind"] == "multi-label"
    assert report["folds"]["k"] == 3
    for row in report["methods"][0]["per_code"]:  # every code's verdict, kept in the JSON
        assert row["trust"]["says"].startswith("too few examples: code ")  # 9 units in all
    assert 'class="verdict too_few_examples"' in (out / "report.html").read_text()


def test_evaluate_unknown_data_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--data", "nope:x", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "annomi:therapist" in result.stderr
