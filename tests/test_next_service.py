"""Code these next over a real SQLite store: the use case (service.app.next_units), the
``intercoder next`` command and ``GET /v1/projects/{id}/next``, each ranking the project's
uncoded, undecided sentences of coded speakers, the coder's most uncertain first."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codebook.coded_csv import read_coded_csv
from codebook.errors import InputError
from codebook.loader import parse_codebook_yaml
from service.app.exemplars import add_coded_frame
from service.app.lifecycle import local_workspace
from service.app.next_units import next_units
from service.app.projects import create_project
from service.app.reviewing import SentenceDecision, decide_sentence
from service.app.transcripts import add_transcript
from service.cli.main import app
from service.errors import NotFoundError
from tests.test_cli_projects import data_dir  # noqa: F401  (the store in tmp_path, autouse)
from tests.test_service_support import checked, running_service, service_settings

runner = CliRunner()
BOOK_YAML = (
    "name: fruit\nspeakers: {skip: [Interviewer]}\ncodes:\n"
    "  - {id: fruit, name: fruit, codable: false, exclusive: true}\n"
    "  - {id: apple, name: apple, parent: fruit}\n"
    "  - {id: pear, name: pear, parent: fruit}\n"
)
FILLER = ["red", "green", "sweet", "crisp", "ripe", "tree", "market", "juice", "pie", "core"]
CODED_CSV = "transcript_id,text,codes\n" + "".join(
    f"c{row % 4},{fruit} {fruit} {FILLER[row % 10]} {FILLER[(row * 3) % 10]}.,{fruit}\n"
    for row in range(40)
    for fruit in ["apple" if row % 2 == 0 else "pear"]
)
CLEAR = [f"Apple apple {word}." for word in FILLER[:4]] + [f"Pear pear {w}." for w in FILLER[:4]]
TORN = [f"Apple pear {word}." for word in FILLER[:4]]
TRANSCRIPT = "".join(
    f"Interviewer: Apple pear {word} again?\nP1: {text}\n"
    for word, text in zip(FILLER * 2, CLEAR + TORN, strict=False)
).encode()


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """Project p1: 40 coded sentences (apple or pear), transcript t9 (interviewer and P1
    taking turns), one P1 sentence coded on the page and one rejected; p2 with nothing coded."""
    book = parse_codebook_yaml(BOOK_YAML)
    with local_workspace() as workspace:
        create_project(workspace, "p1", "Fruit", book)
        create_project(workspace, "p2", "Fruit, cold", book)
        add_coded_frame(workspace, "p1", read_coded_csv(io.StringIO(CODED_CSV), book))
        for project in ("p1", "p2"):
            add_transcript(workspace, project, TRANSCRIPT, "text", "t9", "t9.txt")
        # P1's sentences are the odd ones; 21 and 23 are torn (apple pear ...)
        decide_sentence(
            workspace, "p1", "t9", 21, SentenceDecision("change", "ana", (), ("apple",))
        )
        decide_sentence(workspace, "p1", "t9", 23, SentenceDecision("reject", "ana", ()))
    return tmp_path / "data"


def test_uncoded_sentences_of_coded_speakers_are_ranked_most_uncertain_first(
    stored: Path,
) -> None:
    with local_workspace() as workspace:
        ranked = next_units(workspace, "p1", 3)
    assert ranked.candidates == len(CLEAR) + len(TORN) - 2  # interviewer, coded, rejected out
    assert not ranked.by_diversity_alone
    assert ranked.exemplar_count == 41
    assert len(ranked.units) == 3
    indexes = [unit.sentence_index for unit in ranked.units]
    assert {21, 23}.isdisjoint(indexes)
    assert all(unit.speaker == "P1" for unit in ranked.units)
    assert ranked.units[0].text in TORN
    assert ranked.units[0].why.startswith("uncertain between")
    assert set(ranked.units[0].codes) == {"apple", "pear"}


def test_a_project_with_nothing_coded_is_ranked_by_diversity(stored: Path) -> None:
    with local_workspace() as workspace:
        ranked = next_units(workspace, "p2", 5, seed=1)
        again = next_units(workspace, "p2", 5, seed=1)
    assert ranked == again
    assert ranked.by_diversity_alone
    assert ranked.exemplar_count == 0
    assert len({unit.text for unit in ranked.units}) == 5
    assert all(unit.why.startswith("unlike anything coded") for unit in ranked.units)


def test_bad_counts_and_unknown_projects_are_refused(stored: Path) -> None:
    with local_workspace() as workspace:
        for bad in (0, 501):
            with pytest.raises(InputError, match="between 1 and 500"):
                next_units(workspace, "p1", bad)
        with pytest.raises(NotFoundError):
            next_units(workspace, "nope", 5)


def test_the_command_prints_the_ranking_as_a_table_and_as_json(stored: Path) -> None:
    table = runner.invoke(app, ["next", "--project", "p1", "-n", "2"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].startswith("2 of 10 uncoded sentences, ranked by uncertainty")
    assert "uncertain between" in lines[2]
    assert lines[2].split()[1] == "t9"
    as_json = runner.invoke(app, ["next", "--project", "p1", "-n", "2", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert body["candidates"] == 10
    assert len(body["units"]) == 2
    assert body["units"][0]["sentence_index"] == int(lines[2].split()[2])


def test_the_route_answers_the_ranking_and_refuses_bad_counts(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "service")) as client:
        checked(
            client.post("/v1/projects", json={"id": "p1", "codebook": yaml.safe_load(BOOK_YAML)}),
            201,
        )
        upload = client.post("/v1/projects/p1/transcripts", files={"file": ("t9.txt", TRANSCRIPT)})
        checked(upload, 201)
        body = checked(client.get("/v1/projects/p1/next", params={"n": 4}))
        assert body["by_diversity_alone"] is True
        assert body["candidates"] == len(CLEAR) + len(TORN)
        assert len(body["units"]) == 4
        assert {"transcript_id", "sentence_index", "why", "codes"} <= set(body["units"][0])
        for bad in ("0", "501", "many"):
            refused = client.get("/v1/projects/p1/next", params={"n": bad})
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        missing = client.get("/v1/projects/nope/next")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
