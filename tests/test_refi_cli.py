"""``intercoder import``/``export`` (REFI-QDA) and ``evaluate --data X.qdpx``, run as a user would.

A small two-coder study is written as a .qdpx by intercoder itself (``study_qdpx``); the NVivo
for Mac sample from ../shared checks a file intercoder did not write.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from codebook.coded import CodedUnit, coded_frame
from codebook.coded_csv import read_coded_csv, write_coded_csv
from codebook.loader import build_codebook, codebook_to_yaml, load_codebook
from codebook.model import Codebook
from codebook.refi import machine_user_name, project_from_parts, read_qdpx, write_qdpx
from codebook.transcripts import parse_transcript, split_sentences
from models.suggesters import DEFAULT_METHOD
from models.testing import HashingEncoder
from service.cli.main import app
from service.settings import get_settings
from service.store.database import Store
from service.store.projects import all_projects
from tests.test_service_support import SMALL_CODEBOOK

runner = CliRunner()
NVIVO_SAMPLE = Path("samples/refi-qda/nvivo-mac-15.0-qdpx/nvivo_project.qdpx")

STUDY_TRANSCRIPTS = {
    "t1": (
        "Interviewer: How do you train your models?\n"
        "P3: We retrain the model every week. Someone could poison the training data.\n"
        "Interviewer: Thanks.\n"
    ),
    "t2": (
        "Interviewer: What worries you?\n"
        "P4: Attackers craft inputs that fool the classifier. Fake samples could poison it.\n"
        "P4: We deploy the model on our servers.\n"
    ),
    "t3": (  # coded by nobody: the machine's to suggest for
        "Interviewer: Anything else?\n"
        "P5: Someone could poison the training data with fake samples.\n"
    ),
}
# (transcript, sentence text) -> codes per coder; sentences left out are coded by nobody.
STUDY_CODINGS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("t1", "We retrain the model every week."): {"ana": ("P",), "ben": ("P",)},
    ("t1", "Someone could poison the training data."): {"ana": ("T.1",), "ben": ("T.1",)},
    ("t2", "Attackers craft inputs that fool the classifier."): {"ana": ("T.2",), "ben": ("T.1",)},
    ("t2", "Fake samples could poison it."): {"ana": ("T.1",), "ben": ("T.1",)},
    ("t2", "We deploy the model on our servers."): {"ana": ("P",)},
}


def study_codebook() -> Codebook:
    return build_codebook(SMALL_CODEBOOK)


def study_coded() -> pd.DataFrame:
    """The study's codings: one row per (sentence, coder), unit_id the sentence's index."""
    units = []
    for transcript_id, text in STUDY_TRANSCRIPTS.items():
        transcript = parse_transcript(text.encode(), "text", transcript_id)
        for sentence in split_sentences(transcript):
            for coder, codes in STUDY_CODINGS.get((transcript_id, sentence.text), {}).items():
                units.append(
                    CodedUnit(
                        transcript_id=transcript_id,
                        unit_id=str(sentence.index),
                        turn_index=sentence.turn_index,
                        text=sentence.text,
                        codes=frozenset(codes),
                        speaker=sentence.speaker,
                        coder=coder,
                    )
                )
    return coded_frame(units)


def study_qdpx() -> bytes:
    """The two-coder study as a .qdpx, written by intercoder's REFI writer."""
    transcripts = tuple(
        parse_transcript(text.encode(), "text", transcript_id)
        for transcript_id, text in STUDY_TRANSCRIPTS.items()
    )
    book = study_codebook()
    return write_qdpx(project_from_parts("study", book, transcripts, study_coded()))


def coded_by_name(frame: pd.DataFrame, book: Codebook) -> set[tuple[str, str, frozenset[str]]]:
    """(text, coder, code names) of every row with codes: comparable across code ids."""
    return {
        (text, coder, frozenset(book.get(code).name for code in codes))
        for text, coder, codes in zip(frame["text"], frame["coder"], frame["codes"], strict=True)
        if codes
    }


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("INTERCODER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERCODER_TEST_ENCODER", "hashing")
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "study.qdpx"
    path.write_bytes(study_qdpx())
    return path


def test_import_the_nvivo_sample_summarises_and_writes_the_codebook(
    shared_dir: Path, tmp_path: Path
) -> None:
    sample = shared_dir / NVIVO_SAMPLE
    result = runner.invoke(app, ["import", str(sample)])
    assert result.exit_code == 0, result.output
    assert "2 sources" in result.output
    out = tmp_path / "nvivo.yaml"
    result = runner.invoke(app, ["import", str(sample), "--codebook-out", str(out)])
    assert result.exit_code == 0, result.output
    book = load_codebook(out)
    names = {code.name for code in book.codes}
    assert {"rq1_definition", "competencies", "programming", "abstraction"} <= names
    programming = next(code for code in book.codes if code.name == "programming")
    assert book.get(str(programming.parent)).name == "competencies"  # 3 levels kept


def test_export_from_files_then_import_gives_every_coder_back(tmp_path: Path) -> None:
    book = study_codebook()
    (tmp_path / "study.yaml").write_text(codebook_to_yaml(book), encoding="utf-8")
    write_coded_csv(study_coded(), tmp_path / "coded.csv")
    files = []
    for transcript_id, text in STUDY_TRANSCRIPTS.items():
        files.append(tmp_path / f"{transcript_id}.txt")
        files[-1].write_text(text, encoding="utf-8")
    exported = tmp_path / "study.qdpx"
    result = runner.invoke(
        app,
        ["export", "--format", "qdpx", "--codebook", str(tmp_path / "study.yaml"),
         "--coded", str(tmp_path / "coded.csv"), "-o", str(exported), *map(str, files)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        ["import", str(exported), "--coded-out", str(tmp_path / "back.csv"),
         "--codebook-out", str(tmp_path / "back.yaml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ana" in result.output
    assert "ben" in result.output
    back_book = load_codebook(tmp_path / "back.yaml")
    back = read_coded_csv(tmp_path / "back.csv", back_book)
    assert coded_by_name(back, back_book) == coded_by_name(study_coded(), book)


def test_a_qdc_round_trip_keeps_the_shipped_codebook(tmp_path: Path) -> None:
    qdc = tmp_path / "interview.qdc"
    result = runner.invoke(app, ["export", "--codebook", "interview", "-o", str(qdc)])
    assert result.exit_code == 0, result.output
    assert qdc.read_bytes().lstrip().startswith(b"<?xml")
    result = runner.invoke(app, ["import", str(qdc), "--codebook-out", str(tmp_path / "b.yaml")])
    assert result.exit_code == 0, result.output
    shipped = load_codebook("interview")
    back = load_codebook(tmp_path / "b.yaml")
    assert [c.name for c in back.codes] == [c.name for c in shipped.codes]
    assert back.codable_ids == tuple(c.id for c in back.codes if c.codable)
    assert len(back.codable_ids) == len(shipped.codable_ids)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.qdpx", b"this is no zip archive", "qdpx"),
        ("notes.txt", b"<Project/>", "expected the extension .qdc (codebook) or .qdpx"),
        ("broken.qdc", b"<CodeBook><Codes><Code", "qdc"),
    ],
)
def test_a_broken_file_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["import", str(path), "--project", "p1"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_import_into_a_project_then_export_with_suggestions(study: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(study), "--project", "study"])
    assert result.exit_code == 0, result.output
    assert "created project 'study'" in result.output

    human = tmp_path / "human.qdpx"
    result = runner.invoke(app, ["export", "--project", "study", "-o", str(human)])
    assert result.exit_code == 0, result.output
    again = read_qdpx(human.read_bytes())
    assert set(again.coders) == {"ana", "ben"}
    assert coded_by_name(again.coded, again.codebook) == coded_by_name(
        study_coded(), study_codebook()
    )

    suggested = tmp_path / "suggested.qdpx"
    result = runner.invoke(
        app, ["export", "--project", "study", "--with-suggestions", "-o", str(suggested)]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"added \d+ machine codings for \d+ of \d+ sentences", result.output)
    with_machine = read_qdpx(suggested.read_bytes())
    machine = machine_user_name(HashingEncoder().model_id, DEFAULT_METHOD)
    assert machine in with_machine.coders
    machine_rows = with_machine.coded.loc[with_machine.coded["coder"] == machine]
    coded_texts = {text for _, text in STUDY_CODINGS}
    assert not set(machine_rows.loc[machine_rows["codes"].map(len) > 0, "text"]) & coded_texts

    qdc = tmp_path / "study.qdc"
    result = runner.invoke(app, ["export", "--project", "study", "--format", "qdc", "-o", str(qdc)])
    assert result.exit_code == 0, result.output


def test_an_import_that_fails_half_way_stores_nothing(
    study: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.errors import StoreError

    def fail(*_: object) -> None:
        raise StoreError("the disk is full (simulated)")

    monkeypatch.setattr("service.refi.importing.insert_decision", fail)
    result = runner.invoke(app, ["import", str(study), "--project", "study"])
    assert result.exit_code == 2
    assert "disk is full" in result.stderr
    store = Store(data_dir / "intercoder.sqlite3")
    try:
        with store.read() as connection:
            assert all_projects(connection) == []
            assert connection.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0] == 0
            assert connection.execute("SELECT COUNT(*) FROM exemplars").fetchone()[0] == 0
    finally:
        store.close()


def test_importing_onto_an_existing_project_is_refused(study: Path) -> None:
    assert runner.invoke(app, ["import", str(study), "--project", "study"]).exit_code == 0
    result = runner.invoke(app, ["import", str(study), "--project", "study"])
    assert result.exit_code == 2
    assert "already exists" in result.stderr


def test_export_needs_one_source_and_a_known_format(tmp_path: Path) -> None:
    neither = runner.invoke(app, ["export", "-o", str(tmp_path / "x.qdpx")])
    assert neither.exit_code == 2
    assert "--project" in neither.stderr
    unknown = runner.invoke(app, ["export", "--codebook", "interview", "-o", str(tmp_path / "x")])
    assert unknown.exit_code == 2
    assert ".qdc" in unknown.stderr


def test_evaluate_reads_a_qdpx_and_compares_its_coders(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eval.inputs import load_eval_input

    source = load_eval_input(str(study), min_share=0.5)
    assert source.multi_coded is not None
    assert set(source.multi_coded["coder"]) == {"ana", "ben"}
    assert not source.reference.duplicated(["transcript_id", "unit_id"]).any()

    monkeypatch.setattr("service.app.runtime.build_encoder", lambda *_, **__: HashingEncoder())
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["evaluate", "--data", str(study), "--out", str(out), "--folds", "2",
         "--method", "majority", "--no-learning-curve", "--min-share", "0.5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["human_agreement"] is not None


def test_evaluate_refuses_a_codebook_only_qdc(tmp_path: Path) -> None:
    qdc = tmp_path / "interview.qdc"
    assert runner.invoke(app, ["export", "--codebook", "interview", "-o", str(qdc)]).exit_code == 0
    result = runner.invoke(app, ["evaluate", "--data", str(qdc), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "without codings" in result.stderr


def test_coded_csv_written_by_import_reads_back(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "coded.csv"
    result = runner.invoke(app, ["import", str(study), "--coded-out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert read_coded_csv(io.StringIO(text), read_qdpx(study.read_bytes()).codebook).shape[0] > 0


def test_exporting_an_unknown_project_fails_before_the_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(*_: object, **__: object) -> None:
        raise AssertionError("the model was loaded for a project that does not exist")

    monkeypatch.setattr("service.app.lifecycle.build_encoder", no_model)
    out = tmp_path / "nothing.qdpx"
    result = runner.invoke(
        app, ["export", "--project", "nosuch", "--with-suggestions", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error:")
    assert "nosuch" in line
    assert not out.exists()


def test_export_with_suggestions_says_when_it_added_nothing(tmp_path: Path) -> None:
    """Every sentence of the project already coded: the file gets no machine codings, and the
    command says why instead of writing the file silently."""
    project = ["import", str(_single_sentence_qdpx(tmp_path)), "--project", "one"]
    assert runner.invoke(app, project).exit_code == 0
    result = runner.invoke(
        app, ["export", "--project", "one", "--with-suggestions", "-o", str(tmp_path / "o.qdpx")]
    )
    assert result.exit_code == 0, result.output
    assert "added no machine codings: every sentence is already coded" in result.output


def _single_sentence_qdpx(tmp_path: Path) -> Path:
    """A .qdpx whose one transcript has one sentence, coded by a person."""
    (tmp_path / "t1.txt").write_text("P1: We retrain every week.\n")
    coded = tmp_path / "one.csv"
    coded.write_text("transcript_id,unit_id,text,codes\nt1,0,We retrain every week.,E.1\n")
    out = tmp_path / "one.qdpx"
    result = runner.invoke(
        app, ["export", "--codebook", "interview", "--coded", str(coded), "-o", str(out),
              str(tmp_path / "t1.txt")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out
