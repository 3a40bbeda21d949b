"""The review page without a browser: sessions, CSRF, CSP, escaping, project scopes, and the
decision flow through the app's use cases (the browser tests are in test_page_browser.py)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eval.trust import HEADLINES, MIN_HUMAN_UNITS, TRUST_KINDS
from models.testing import HashingEncoder
from service.api.main import create_app
from service.api.problems import ERROR_STATUS
from service.app.keys import create_key, revoke_key
from service.app.reviewing import ReviewFilter, SentenceView
from service.errors import CsrfError
from service.store.database import Store
from tests.page_support import (
    HOSTILE_TEXT,
    csrf_of,
    interview_vtt,
    new_project,
    page_client,
    projects_with_interview,
    sign_in,
    upload,
)
from tests.test_service_support import CODED_ROWS, service_settings

HX = {"HX-Request": "true"}


@pytest.fixture
def open_page(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A loopback server without keys, a session, a project with the VTT interview."""
    with page_client(tmp_path / "data") as client:
        csrf = projects_with_interview(client, "p1")
        yield client, csrf


def test_the_session_cookie_is_httponly_and_strict(tmp_path: Path) -> None:
    with page_client(tmp_path / "data") as client:
        response = client.get("/page/", follow_redirects=False)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "intercoder_session=" in cookie
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "secure" not in cookie  # plain HTTP on loopback: a Secure cookie would be lost


def test_over_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    app = create_app(service_settings(tmp_path / "data"), encoder=HashingEncoder())
    with TestClient(app, base_url="https://127.0.0.1") as client:
        response = client.get("/page/", follow_redirects=False)
        assert "; secure" in response.headers["set-cookie"].lower()


def test_the_page_has_a_strict_csp_and_the_docs_work_offline(
    open_page: tuple[TestClient, str],
) -> None:
    client, _ = open_page
    page = client.get("/page/projects/p1/transcripts/interview")
    policy = page.headers["content-security-policy"]
    script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert script.strip() == "script-src 'self'"
    assert "unsafe-eval" not in policy
    assert not re.search(r"<script(?![^>]*\ssrc=)", page.text), "an inline script"
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page.text), "an on* event attribute"
    assert "style=" not in page.text
    assert 'src="http' not in page.text
    for path, asset in [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]:
        docs = client.get(path)
        assert docs.status_code == 200
        assert f"/page/static/vendor/{asset}" in docs.text
        assert "cdn.jsdelivr.net" not in docs.text
        assert "fonts.googleapis" not in docs.text
        assert client.get(f"/page/static/vendor/{asset}").status_code == 200
        # FastAPI writes the docs' HTML with an inline script: their policy alone allows it
        assert "'unsafe-inline'" in docs.headers["content-security-policy"]


def test_hostile_text_shows_as_text(open_page: tuple[TestClient, str]) -> None:
    client, csrf = open_page
    upload(client, csrf, "hostile.txt", HOSTILE_TEXT.encode())
    page = client.get("/page/projects/p1/transcripts/hostile")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert '" onmouseover="alert(1)' not in page.text
    assert "&#34; onmouseover=&#34;alert(1)" in page.text


def test_a_change_without_the_csrf_token_is_refused(open_page: tuple[TestClient, str]) -> None:
    client, csrf = open_page
    decision = "/page/projects/p1/transcripts/interview/sentences/1/decision"
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}):
        refused = client.post(decision, data={"action": "accept"}, headers={**HX, **headers})
        assert refused.status_code == 403, refused.text
        assert refused.json()["title"] == "CSRF token missing or wrong"
    exported = client.get("/page/projects/p1/export.csv").text
    assert exported.count("\n") == 1  # the header only: nothing was stored
    accepted = client.post(
        decision, data={"action": "accept"}, headers={**HX, "X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200, accepted.text
    assert ERROR_STATUS[CsrfError][0] == 403


def test_a_decision_is_saved_shown_and_undone(open_page: tuple[TestClient, str]) -> None:
    client, csrf = open_page
    base = "/page/projects/p1/transcripts/interview"
    headers = {**HX, "X-CSRF-Token": csrf}
    toggled = client.post(
        f"{base}/sentences/2/decision", data={"action": "toggle", "code": "T.1"}, headers=headers
    )
    assert toggled.status_code == 200, toggled.text
    assert toggled.headers["HX-Trigger"] == "decided"
    assert 'id="s-2" class="sentence status-coded"' in toggled.text
    assert "Coded by a human:" in toggled.text
    # the next sentence about poisoning shows the decided one as evidence for T.1
    later = client.get(f"{base}/sentences/5")
    assert "Someone could poison the training data." in later.text
    progress = client.get(f"{base}/progress").text
    assert re.search(r"<strong>1</strong> coded", progress), progress
    undone = client.post(f"{base}/undo", headers=headers)
    assert undone.status_code == 200, undone.text
    assert (
        'id="s-2" class="sentence status-to-review"' in undone.text or "status-left" in undone.text
    )
    assert re.search(r"<strong>0</strong> coded", client.get(f"{base}/progress").text)
    assert client.get("/page/projects/p1/export.csv").text.count("\n") == 1


def test_filters_keep_only_the_sentences_asked_for(open_page: tuple[TestClient, str]) -> None:
    client, csrf = open_page
    base = "/page/projects/p1/transcripts/interview"
    headers = {**HX, "X-CSRF-Token": csrf}
    client.post(
        f"{base}/sentences/1/decision", data={"action": "toggle", "code": "T.2"}, headers=headers
    )
    coded = client.get(base, params={"status": "coded"}).text
    assert coded.count('class="sentence ') == 1
    # the filter form sends its empty fields too
    form = {"code": "", "min_score": "", "max_score": "", "status": ""}
    assert client.get(base, params=form).text.count('class="sentence ') == 12
    only_t2 = client.get(base, params={**form, "code": "T.2"}).text
    assert 'id="s-1" class="sentence status-coded"' in only_t2
    rows = re.findall(r'<li id="s-\d+".*?</li>', only_t2, flags=re.S)
    assert rows
    assert all("T.2" in row for row in rows)
    assert client.get(base, params={**form, "min_score": "2"}).status_code == 422
    everything = client.get(base).text
    assert everything.count('class="sentence ') == 12


def test_another_projects_key_cannot_open_the_page(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "intercoder.sqlite3")
    admin, _ = create_key(store, None, "admin")
    with page_client(data, require_api_keys=True) as client:
        signed = sign_in(client, admin, coder="ana")
        assert signed.status_code == 303
        csrf = csrf_of(client.get("/page/").text)
        new_project(client, csrf, "p1")
        new_project(client, csrf, "p2")
        upload(client, csrf, "interview.vtt", interview_vtt(), project="p1")
        other, other_row = create_key(store, "p2", "bo")
        store.close()
        client.cookies.clear()
        assert (
            client.get("/page/", follow_redirects=False)
            .headers["location"]
            .startswith("/page/sign-in")
        )
        wrong = sign_in(client, "ick_wrong")
        assert wrong.status_code == 401
        assert "not known to this service" in wrong.text
        # a form posted from elsewhere has no sign-in token (its cookie stays on this site)
        forged = client.post("/page/sign-in", data={"key": other}, follow_redirects=False)
        assert forged.status_code == 401
        assert "expired" in forged.text
        assert sign_in(client, other).status_code == 303
        listing = client.get("/page/").text
        assert "/page/projects/p2" in listing
        assert "/page/projects/p1" not in listing
        for path in ["", "/agreement", "/export.csv", "/export.qdpx", "/transcripts/interview"]:
            assert client.get(f"/page/projects/p1{path}").status_code == 403, path
        csrf = csrf_of(listing)
        decision = client.post(
            "/page/projects/p1/transcripts/interview/sentences/1/decision",
            data={"action": "accept", "csrf_token": csrf},
        )
        assert decision.status_code == 403
        assert client.get("/page/projects/p2").status_code == 200
        # revoking the key ends its sessions at once
        store = Store(data / "intercoder.sqlite3")
        revoke_key(store, other_row.id)
        store.close()
        ended = client.get("/page/projects/p2", follow_redirects=False)
        assert ended.status_code == 303
        assert ended.headers["location"] == "/page/sign-in?next=/page/projects/p2"


def test_signing_in_never_sends_the_coder_to_another_site(tmp_path: Path) -> None:
    with page_client(tmp_path / "data") as client:
        for target in ["https://evil.example/", "//evil.example/page/", "/v1/projects"]:
            signed = sign_in(client, "", next=target)
            assert signed.status_code == 303
            assert signed.headers["location"] == "/page/"


def test_the_filter_keeps_by_code_score_status_and_disagreement() -> None:
    def view(index: int, suggested: tuple[str, ...], score: float, human: tuple[str, ...] | None):
        return SentenceView(index, 0, "P1", "text", suggested, score, human, False, False)

    views = [
        view(0, ("A",), 0.9, None),
        view(1, ("A",), 0.4, ("A",)),
        view(2, ("B",), 0.7, ("A",)),
        view(3, (), 0.1, None),
    ]

    def kept(chosen: ReviewFilter) -> list[int]:
        return [v.index for v in views if chosen.keeps(v)]

    assert kept(ReviewFilter()) == [0, 1, 2, 3]
    assert kept(ReviewFilter(code="B")) == [2]
    assert kept(ReviewFilter(min_score=0.5)) == [0, 2]
    assert kept(ReviewFilter(max_score=0.4)) == [1, 3]
    assert kept(ReviewFilter(disagreement=True)) == [2]
    assert kept(ReviewFilter(status="coded")) == [1, 2]
    assert kept(ReviewFilter(status="to review")) == [0]
    assert kept(ReviewFilter(status="left")) == [3]


def test_coded_data_and_the_agreement_report(open_page: tuple[TestClient, str]) -> None:
    client, csrf = open_page
    rows = [f'{r["transcript_id"]},"{r["text"]}",{";".join(r["codes"])}' for r in CODED_ROWS]
    coded = "transcript_id,text,codes\n" + "\n".join(rows) + "\n"
    added = client.post(
        "/page/projects/p1/coded",
        data={"csrf_token": csrf},
        files={"file": ("coded.csv", coded.encode())},
        follow_redirects=True,
    )
    assert f"{len(CODED_ROWS)} coded sentences added" in added.text, added.text
    assert "No agreement report" in client.get("/page/projects/p1/agreement").text
    assert set(_trust_flags(client).values()) == {("not_evaluated", "not evaluated")}
    evaluated = client.post(
        "/page/projects/p1/agreement", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert evaluated.status_code == 200
    assert "the agreement report is up to date" in evaluated.text, evaluated.text
    page = html.unescape(evaluated.text)
    verdicts = re.findall(
        r'<td>(\d+)</td><td>[^<]*</td><td>[^<]*</td><td class="verdict (\w+)">([^<]+)</td>', page
    )
    assert len(verdicts) == 4  # the codable codes T.1, T.2 and P, and "(no code)", scored too
    for humans, kind, says in verdicts:
        assert kind in TRUST_KINDS
        assert kind != "not_evaluated"
        assert says.startswith(HEADLINES[kind] + ": ")
        if kind == "too_few_examples":  # how many more reach the floor, from the humans' count
            assert says.startswith(f"too few examples: code {MIN_HUMAN_UNITS - int(humans)} more")
    assert "(moderate); code by hand below that" in page  # the rule, thresholds stated
    flags = _trust_flags(client)  # the evidence gives each ranked code the report's verdict
    shown = {says.split(":")[0] for _, kind, says in verdicts}
    assert {kind for kind, _ in flags.values()} <= {kind for _, kind, _ in verdicts}
    assert {flag.split(":")[0] for _, flag in flags.values()} <= shown


def _trust_flags(client: TestClient) -> dict[str, tuple[str, str]]:
    """Each ranked code of a sentence's evidence: its verdict's kind and flag."""
    detail = client.get("/page/projects/p1/transcripts/interview/sentences/1")
    assert detail.status_code == 200, detail.text
    found = re.findall(
        r'</kbd> ([^ ]+) [^<]*</button>.*?<span class="trust (\w+)" title="[^"]*">([^<]+)</span>',
        html.unescape(detail.text),
        flags=re.DOTALL,
    )
    assert found, detail.text
    return {code: (kind, flag) for code, kind, flag in found}
