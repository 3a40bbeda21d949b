"""The review page's decisions, undo and progress across projects, coders and coded data
(the flow itself is in test_page.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import reviewing
from service.app.page_sessions import UndoStep
from service.app.reviewing import (
    ReviewFilter,
    SentenceDecision,
    SentenceView,
    decide_sentence,
    review_transcript,
    toggled,
    transcript_progress,
    undo_decision,
)
from service.app.suggesting import SuggestionBatch, suggest_for_units
from service.errors import NotFoundError
from tests.page_support import page_client, projects_with_interview

HX = {"HX-Request": "true"}
BASE = "/page/projects/{}/transcripts/interview"


@pytest.fixture
def two_projects(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A loopback server without keys, a session, projects pa and pb with the same interview."""
    with page_client(tmp_path / "data") as client:
        yield client, projects_with_interview(client, "pa", "pb")


def _changed(client: TestClient, csrf: str, path: str, **form: str) -> str:
    """A change the page makes through htmx; its answer once it succeeded."""
    answer = client.post(path, data=form, headers={**HX, "X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    return answer.text


def _exported(client: TestClient, project: str) -> list[dict[str, str]]:
    exported = client.get(f"/page/projects/{project}/export.csv")
    assert exported.status_code == 200, exported.text
    return list(csv.DictReader(io.StringIO(exported.text)))


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
    _changed(client, csrf, f"{BASE.format('pa')}/sentences/2/decision", action="toggle", code="T.1")
    assert "nothing to undo" in _changed(client, csrf, f"{BASE.format('pb')}/undo")
    assert _coded_count(client, "pb") == 0
    assert _exported(client, "pb") == []
    assert _coded_count(client, "pa") == 1
    # the step is still there for its own project
    _changed(client, csrf, f"{BASE.format('pa')}/undo")
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
    sentence = f"{BASE.format('pa')}/sentences/1/decision"
    _changed(client, csrf, sentence, action="reject")
    _changed(client, csrf, sentence, action="toggle", code="T.2")
    assert [row["codes"] for row in _exported(client, "pa")] == ["T.2"]


def test_undo_never_overwrites_another_coders_later_decision(
    two_projects: tuple[TestClient, str],
) -> None:
    client, csrf = two_projects
    sentence = f"{BASE.format('pa')}/sentences/1/decision"
    for code in ("T.1", "T.2"):  # the second toggle's undo would give back the first's codes
        _changed(client, csrf, sentence, action="toggle", code=code)
    workspace = client.app.state.service  # type: ignore[attr-defined]
    later = SentenceDecision(action="change", coder="bo", suggested=(), codes=("P",))
    decide_sentence(workspace, "pa", "interview", 1, later)
    assert "coded again since" in _changed(client, csrf, f"{BASE.format('pa')}/undo")
    assert [(row["codes"], row["coder"]) for row in _exported(client, "pa")] == [("P", "bo")]


def _import_coded(client: TestClient, csrf: str, project: str, rows: list[tuple[str, str]]) -> None:
    """Coded data for the transcript id 'interview': (unit_id, text) rows, all coded T.2."""
    lines = ["transcript_id,unit_id,text,codes"] + [f"interview,{u},{t},T.2" for u, t in rows]
    added = client.post(
        f"/page/projects/{project}/coded",
        data={"csrf_token": csrf},
        files={"file": ("coded.csv", ("\n".join(lines) + "\n").encode())},
        follow_redirects=True,
    )
    assert f"{len(rows)} coded sentences added" in added.text, added.text


def test_coded_data_under_the_same_transcript_id_never_breaks_or_shifts_the_page(
    two_projects: tuple[TestClient, str],
) -> None:
    client, csrf = two_projects
    other = [("²", "A superscript two is a digit to str.isdigit."), ("2", "Not the 3rd line.")]
    _import_coded(client, csrf, "pa", other)
    page = client.get(BASE.format("pa"))
    assert page.status_code == 200, page.text
    assert 'id="s-2" class="sentence status-coded"' not in page.text
    assert _coded_count(client, "pa") == 0
    # coding sentence 2 leaves the imported unit "2" (another text) as it was
    refused = _changed(
        client, csrf, f"{BASE.format('pa')}/sentences/2/decision", action="toggle", code="T.1"
    )
    assert "another text" in refused
    assert sorted(row["text"] for row in _exported(client, "pa")) == sorted(t for _, t in other)


def test_coded_data_with_the_sentences_own_texts_shows_as_their_coding(
    two_projects: tuple[TestClient, str],
) -> None:
    client, csrf = two_projects
    _import_coded(client, csrf, "pb", [("2", "Someone could poison the training data.")])
    assert _coded_count(client, "pb") == 1
    _changed(client, csrf, f"{BASE.format('pb')}/sentences/2/decision", action="toggle", code="T.1")
    # the decision starts from the imported coding and replaces it
    assert [(r["codes"], r["coder"]) for r in _exported(client, "pb")] == [("T.1;T.2", "coder")]


def test_the_notice_after_undoing_a_rejection_reaches_the_page(
    two_projects: tuple[TestClient, str],
) -> None:
    client, csrf = two_projects
    _changed(client, csrf, f"{BASE.format('pa')}/sentences/1/decision", action="reject")
    undone = _changed(client, csrf, f"{BASE.format('pa')}/undo")
    notices = re.search(r'<div id="notices" hx-swap-oob="innerHTML">(.*?)</div>', undone, re.S)
    assert notices is not None, undone
    assert "a rejection stays in the decision log" in notices.group(1)


def test_progress_counts_as_the_list_and_suggests_for_open_sentences_only(
    two_projects: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, csrf = two_projects
    for index, form in [(1, {"action": "accept"}), (2, {"action": "reject"})]:
        _changed(client, csrf, f"{BASE.format('pa')}/sentences/{index}/decision", **form)
    _changed(client, csrf, f"{BASE.format('pa')}/sentences/4/decision", action="toggle", code="P")
    workspace = client.app.state.service  # type: ignore[attr-defined]
    listed = review_transcript(workspace, "pa", "interview", ReviewFilter()).progress
    suggested_for: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> SuggestionBatch:
        suggested_for.append(len(args[2]))
        return suggest_for_units(*args, **kwargs)

    monkeypatch.setattr(reviewing, "suggest_for_units", counting)
    counted = transcript_progress(workspace, "pa", "interview")
    assert counted == listed
    assert counted.coded == 3
    assert suggested_for == [listed.total - 3]
    page = client.get(f"{BASE.format('pa')}/progress").text
    assert re.search(r"<strong>3</strong> coded", page)
    assert f"{listed.total} sentences" in page
