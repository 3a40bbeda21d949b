"""``intercoder projects``, ``intercoder info``, ``--data-dir`` and where the data lives by
default, run as a user would (Typer's runner) on a store built through the application layer."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codebook.coded_csv import read_coded_csv
from codebook.loader import load_codebook
from service.app.exemplars import add_coded_frame
from service.app.lifecycle import local_workspace
from service.app.projects import create_project
from service.app.transcripts import add_transcript
from service.cli import projects as projects_cli
from service.cli.main import app
from service.settings import PROJECT_DATA_DIR, default_data_dir, get_settings

runner = CliRunner()

CODED_CSV = textwrap.dedent(
    """\
    transcript_id,text,codes
    t1,Someone could poison our training data with fake samples.,A.1
    t1,We retrain the model every week.,E.1;B.1
    t2,Attackers could fool the classifier with crafted inputs.,A.2
    """
)
TRANSCRIPT = b"Interviewer: How do you train?\nP3: We retrain every week. Nobody attacks us.\n"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def stored(data_dir: Path) -> Path:
    """Project p1 with 3 exemplars and a transcript, and an empty project p2."""
    book = load_codebook("interview")
    with local_workspace() as workspace:
        create_project(workspace, "p1", "Security study", book)
        create_project(workspace, "p2", "Empty", book)
        add_coded_frame(workspace, "p1", read_coded_csv(io.StringIO(CODED_CSV), book))
        add_transcript(workspace, "p1", TRANSCRIPT, "text", "t9", "t9.txt")
    (data_dir / "batches" / "p1" / "b1").mkdir(parents=True)  # as a batch run leaves it
    return data_dir


def test_list_shows_each_project_with_its_counts(stored: Path) -> None:
    result = runner.invoke(app, ["projects", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "exemplars", "transcripts", "codebook", "created"]
    assert lines[1].split()[:5] == ["p1", "Security", "study", "3", "1"]
    assert lines[2].split()[:4] == ["p2", "Empty", "0", "0"]
    rows = json.loads(runner.invoke(app, ["projects", "list", "--format", "json"]).stdout)
    assert [(row["id"], row["exemplars"], row["transcripts"]) for row in rows] == [
        ("p1", 3, 1),
        ("p2", 0, 0),
    ]


def test_list_of_a_folder_without_a_store_says_so_and_creates_nothing(data_dir: Path) -> None:
    result = runner.invoke(app, ["projects", "list"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"no projects in {data_dir}" in result.stderr
    assert not data_dir.exists()


def test_show_gives_the_codebook_counts_and_evaluation(stored: Path) -> None:
    result = runner.invoke(app, ["projects", "show", "p1", "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    book = load_codebook("interview")
    assert shown["codebook"] == book.name
    assert shown["codebook_version"] == book.version
    assert (shown["exemplars"], shown["transcripts"], shown["batch_runs"]) == (3, 1, 0)
    assert shown["sentences"] > 0
    assert shown["last_evaluated_at"] is None
    text = runner.invoke(app, ["projects", "show", "p1"]).stdout
    assert "codebook version:" in text
    assert "last evaluated at:     -" in text


def test_unknown_project_is_one_line_naming_the_data_folder(stored: Path) -> None:
    result = runner.invoke(app, ["projects", "show", "nope"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: there is no project 'nope' in {stored}; list them with: intercoder projects list"
    )


def test_delete_with_yes_removes_rows_index_and_batches(stored: Path) -> None:
    assert (stored / "projects" / "p1").is_dir()
    result = runner.invoke(app, ["projects", "delete", "p1", "--yes"])
    assert result.exit_code == 0, result.output
    assert not (stored / "projects" / "p1").exists()
    assert not (stored / "batches" / "p1").exists()
    assert (stored / "projects" / "p2").is_dir()
    listed = json.loads(runner.invoke(app, ["projects", "list", "--format", "json"]).stdout)
    assert [row["id"] for row in listed] == ["p2"]


def test_delete_refuses_without_yes_in_a_pipe(stored: Path) -> None:
    result = runner.invoke(app, ["projects", "delete", "p1"])
    assert result.exit_code == 2
    assert "without --yes" in result.stderr
    assert (stored / "projects" / "p1").is_dir()


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("n\n", False)])
def test_delete_asks_on_a_terminal(
    stored: Path, monkeypatch: pytest.MonkeyPatch, answer: str, deleted: bool
) -> None:
    monkeypatch.setattr(projects_cli, "stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["projects", "delete", "p1"], input=answer)
    assert result.exit_code == (0 if deleted else 1), result.output
    assert "Delete project 'p1' (3 exemplars, 1 transcripts)" in result.output
    assert (stored / "projects" / "p1").exists() is not deleted


def test_data_dir_option_reaches_every_command(stored: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    listed = runner.invoke(app, ["--data-dir", str(other), "projects", "list"])
    assert f"no projects in {other}" in listed.stderr
    shown = runner.invoke(app, ["--data-dir", str(stored), "projects", "show", "p2"])
    assert shown.exit_code == 0, shown.output
    about = json.loads(
        runner.invoke(app, ["--data-dir", str(other), "info", "--format", "json"]).stdout
    )
    assert about["data_dir"] == str(other)


def test_info_tells_version_model_data_dir_backends_and_projects(stored: Path) -> None:
    about = json.loads(runner.invoke(app, ["info", "--format", "json"]).stdout)
    assert about["projects"] == 2
    assert about["data_dir"] == str(stored)
    assert about["data_dir_exists"]
    assert about["model"]["name"].startswith("test encoder")
    assert set(about["backends"]) == {"torch", "onnxruntime", "ray"}
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    for label in ("intercoder:", "python:", "model:", "data dir:", "backends:", "projects:"):
        assert label in result.stdout


def test_info_hashes_the_configured_model_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    monkeypatch.delenv("INTERCODER_TEST_ENCODER")
    monkeypatch.setenv("INTERCODER_MODEL_PATH", str(folder))
    monkeypatch.setenv("INTERCODER_MODEL_SHA256", "0" * 64)
    model = json.loads(runner.invoke(app, ["info", "--format", "json"]).stdout)["model"]
    assert model["weights_sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert "DIFFERS from the expected hash" in runner.invoke(app, ["info"]).stdout


def test_default_data_dir_is_the_project_folder_if_any_else_the_user_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "user"))
    assert default_data_dir() == tmp_path / "user"
    monkeypatch.delenv("INTERCODER_DATA_DIR")
    get_settings.cache_clear()
    assert get_settings().data_dir == tmp_path / "user"
    (tmp_path / PROJECT_DATA_DIR).mkdir()
    assert default_data_dir() == PROJECT_DATA_DIR
    get_settings.cache_clear()
    assert get_settings().data_dir.resolve() == (tmp_path / "intercoder-data").resolve()
