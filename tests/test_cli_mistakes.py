"""A user's mistakes on the command line: one ``error:`` line, exit 2, never a traceback.

A table of bad invocations, one per row, each run as a user runs it: a mistyped path, a folder
where a file belongs, an output that already exists or cannot be made, and the usage mistakes
Click would report with a boxed panel (unknown option, missing option, bad choice, bad number).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app
from service.settings import get_settings
from tests.test_cli import CODED_CSV, ZOOM_VTT

runner = CliRunner()
REPO_ROOT = Path(__file__).resolve().parents[1]

# Each row: an id, then the command line with {tmp} for the test's folder. Files there:
# talk.vtt (a transcript), coded.csv (coded units), report.txt (a plain file), folder/.
MISTAKES: list[tuple[str, str]] = [
    ("suggest: exemplars missing", "suggest {tmp}/talk.vtt --codebook interview "
     "--exemplars {tmp}/nope.csv"),
    ("suggest: exemplars a folder", "suggest {tmp}/talk.vtt --codebook interview "
     "--exemplars {tmp}/folder"),
    ("suggest: transcript missing", "suggest {tmp}/nope.vtt --codebook interview"),
    ("suggest: transcript a folder", "suggest {tmp}/folder --codebook interview"),
    ("suggest: model missing", "suggest {tmp}/talk.vtt --codebook interview --model {tmp}/m"),
    ("suggest: missing --codebook", "suggest {tmp}/talk.vtt"),
    ("suggest: missing transcript", "suggest --codebook interview"),
    ("suggest: unknown option", "suggest {tmp}/talk.vtt --codebook interview --colour red"),
    ("suggest: bad choice", "suggest {tmp}/talk.vtt --codebook interview --format xml"),
    ("suggest: bad number", "suggest {tmp}/talk.vtt --codebook interview --top many"),
    ("suggest: number out of range", "suggest {tmp}/talk.vtt --codebook interview --top 0"),
    ("evaluate: out is a file", "evaluate --data {tmp}/coded.csv --codebook interview "
     "--out {tmp}/report.txt"),
    ("evaluate: out inside a file", "evaluate --data {tmp}/coded.csv --codebook interview "
     "--out {tmp}/report.txt/r"),
    ("evaluate: data a folder", "evaluate --data {tmp}/folder --out {tmp}/r"),
    ("evaluate: missing --out", "evaluate --data {tmp}/coded.csv"),
    ("evaluate: a single transcript", "evaluate --data {tmp}/one.csv --codebook interview "
     "--out {tmp}/r"),
    ("evaluate: bad checkpoints", "evaluate --data {tmp}/coded.csv --codebook interview "
     "--out {tmp}/r --active-learning --al-checkpoints 100,many"),
    ("evaluate: batch of 0", "evaluate --data {tmp}/coded.csv --codebook interview "
     "--out {tmp}/r --active-learning --al-batch 0"),
    ("evaluate: active learning, one out", "evaluate --data {tmp}/coded.csv --codebook "
     "interview --out {tmp}/r --active-learning --leave-one-out"),
    ("train: data missing", "train --data {tmp}/nope.csv --codebook interview"),
    ("train: out is a file", "train --data {tmp}/coded.csv --codebook interview "
     "--out {tmp}/report.txt"),
    ("train: --resume with no checkpoint", "train --data {tmp}/coded.csv --codebook interview "
     "--out {tmp}/models --resume"),
    ("train: checkpoints every 0 steps", "train --data {tmp}/coded.csv --codebook interview "
     "--checkpoint-every 0"),
    ("code: exemplars missing", "code {tmp}/talk.vtt --codebook interview "
     "--exemplars {tmp}/nope.csv --out {tmp}/coded"),
    ("code: missing --out", "code {tmp}/talk.vtt --codebook interview"),
    ("import: file missing", "import {tmp}/nope.qdpx"),
    ("import: file a folder", "import {tmp}/folder"),
    ("export: output exists", "export --codebook interview -o {tmp}/exists.qdc"),
    ("export: output a folder", "export --codebook interview -o {tmp}/folder"),
    ("export: output inside a file", "export --codebook interview -o {tmp}/report.txt/x.qdc"),
    ("export: bad --include", "export --project p -o {tmp}/x.qdpx --include everything"),
    ("transcript split: missing", "transcript split {tmp}/nope.vtt"),
    ("codebook show: unknown", "codebook show no-such-codebook"),
    ("keys revoke: not a number", "keys revoke seven"),
    ("backup: missing --to", "backup"),
    ("backup: to an existing file", "backup --to {tmp}/report.txt"),
    ("restore: file missing", "restore {tmp}/nope.sqlite3"),
    ("restore: not a database", "restore {tmp}/report.txt"),
    ("restore: a folder", "restore {tmp}/folder"),
    ("next: unknown project", "next --project nope"),
    ("next: missing --project", "next -n 5"),
    ("next: n of 0", "next --project nope -n 0"),
    ("next: n too large", "next --project nope -n 100000"),
    ("next: n not a number", "next --project nope -n many"),
    ("next: bad format", "next --project nope --format xml"),
    ("unknown command", "sugest {tmp}/talk.vtt"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def hashing_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def make_files(tmp: Path) -> None:
    (tmp / "talk.vtt").write_text(ZOOM_VTT)
    (tmp / "coded.csv").write_text(CODED_CSV)
    (tmp / "one.csv").write_text("transcript_id,text,codes\nt1,We retrain weekly.,E.1\n")
    (tmp / "report.txt").write_text("my notes\n")
    (tmp / "exists.qdc").write_text("an earlier export\n")
    (tmp / "folder").mkdir()


@pytest.mark.parametrize(("name", "command"), MISTAKES, ids=[name for name, _ in MISTAKES])
def test_a_mistake_is_one_error_line_and_exit_2(name: str, command: str, tmp_path: Path) -> None:
    make_files(tmp_path)
    result = runner.invoke(app, command.format(tmp=tmp_path).split())
    assert result.exit_code == 2, (name, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (name, result.stderr)
    assert lines[0].startswith("error: "), (name, result.stderr)
    assert "Traceback" not in result.output + result.stderr
    assert "╭" not in result.stderr  # no boxed Typer panel


def test_the_table_covers_every_command() -> None:
    assert len(MISTAKES) >= 15
    named = {command.split()[0] for _, command in MISTAKES}
    assert {"suggest", "evaluate", "train", "code", "import", "export", "keys", "next"} <= named


def test_an_existing_output_is_kept_and_force_overwrites_it(tmp_path: Path) -> None:
    make_files(tmp_path)
    refused = runner.invoke(
        app, ["export", "--codebook", "interview", "-o", f"{tmp_path}/exists.qdc"]
    )
    assert "--force" in refused.stderr
    assert (tmp_path / "exists.qdc").read_text() == "an earlier export\n"
    forced = runner.invoke(
        app, ["export", "--codebook", "interview", "-o", f"{tmp_path}/exists.qdc", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "exists.qdc").read_bytes().startswith(b"<?xml")


def test_export_creates_missing_folders_of_its_output(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "2024" / "book.qdc"
    result = runner.invoke(app, ["export", "--codebook", "interview", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file()


def test_the_messages_say_what_and_how(tmp_path: Path) -> None:
    make_files(tmp_path)
    folder = runner.invoke(
        app, ["suggest", f"{tmp_path}/talk.vtt", "--codebook", "interview",
              "--exemplars", f"{tmp_path}/folder"],
    )  # fmt: skip
    assert "--exemplars" in folder.stderr
    assert "is a folder" in folder.stderr
    usage = runner.invoke(app, ["suggest", f"{tmp_path}/talk.vtt"])
    assert usage.stderr.strip() == (
        "error: missing option '--codebook'; see 'intercoder suggest --help'"
    )


@pytest.mark.parametrize(
    "how",
    [
        [sys.executable, "-m", "service.cli.main"],
        [sys.executable, "-c", "from service.cli.main import app; app()"],
    ],
)
def test_the_module_and_the_console_script_behave_alike(how: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "INTERCODER_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [*how, "suggest", "x.vtt", "--colour", "red"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: no such option: --colour; see 'intercoder suggest --help'"
    ]
    helped = subprocess.run(
        [*how, "evaluate", "--help"], capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )  # fmt: skip
    assert helped.returncode == 0
    assert "--out" in helped.stdout
