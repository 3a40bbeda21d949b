"""The review page's decisions, undo and progress across projects, coders and coded data
(the flow itself is in test_page.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app.page_sessions import UndoStep
from service.app.reviewing import SentenceView, toggled, undo_decision
from service.errors import NotFoundError
from tests.page_support import page_client, projects_with_interview

HX = {"HX-Request": "true"}
BASE = "/page/projects/{}/transcripts/interview"


@pytest.fixture
def two_projects(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A loopback server without keys, a session, projects pa and pb with the same interview."""
    with page_client(tmp_path / "data") as client:
        yield client, projects_with_interview(client, "pa", "pb")


def _coded_count(client: TestClient, project: str) -> int:
    progress = client.get(f"{BASE.format(project)}/progress")
    assert progress.status_code == 200, progress.text
    found = re.search(r"<strong>(\d+)</strong> coded", progress.text)
    assert found is not None, progress.text
    return int(found.group(1))


def test_undo_on_one_project_never_takes_back_a_decision_on_another(
    two_projects: tuple[TestClient, str],
) -> None:
    client, csrf = two_projects
    headers = {**HX, "X-CSRF-Token": csrf}
    decided = client.post(
        f"{BASE.format('pa')}/sentences/2/decision",
        data={"action": "toggle", "code": "T.1"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    undone = client.post(f"{BASE.format('pb')}/undo", headers=headers)
    assert undone.status_code == 200, undone.text
    assert "nothing to undo" in undone.text
    assert _coded_count(client, "pb") == 0
    assert client.get("/page/projects/pb/export.csv").text.count("\n") == 1
    assert _coded_count(client, "pa") == 1
    # the step is still there for its own project
    assert client.post(f"{BASE.format('pa')}/undo", headers=headers).status_code == 200
    assert _coded_count(client, "pa") == 0
    # and the use case itself refuses a step of another project
    step = UndoStep("pa", "interview", 2, previous_codes=("P",), made_exemplar=1)
    with pytest.raises(NotFoundError, match="belongs to project 'pa'"):
        undo_decision(client.app.state.service, "pb", step, "coder")  # type: ignore[attr-defined]
    assert _coded_count(client, "pb") == 0


def test_a_code_chosen_after_a_rejection_starts_from_no_codes() -> None:
    rejected = SentenceView(3, 0, "P3", "text", ("P",), 0.8, None, True, False)
    assert rejected.coding == ()
    assert toggled(rejected, "T.2") == ("T.2",)
    undecided = SentenceView(3, 0, "P3", "text", ("P",), 0.8, None, False, False)
    assert toggled(undecided, "T.2") == ("P", "T.2")


def test_pressing_a_number_after_rejecting_stores_that_code_alone(
    two_projects: tuple[TestClient, str],
) -> None:
    client, csrf = two_projects
    headers = {**HX, "X-CSRF-Token": csrf}
    sentence = f"{BASE.format('pa')}/sentences/1/decision"
    rejected = client.post(sentence, data={"action": "reject"}, headers=headers)
    assert rejected.status_code == 200, rejected.text
    changed = client.post(sentence, data={"action": "toggle", "code": "T.2"}, headers=headers)
    assert changed.status_code == 200, changed.text
    exported = list(csv.DictReader(io.StringIO(client.get("/page/projects/pa/export.csv").text)))
    assert [row["codes"] for row in exported] == ["T.2"]
