"""Shared pieces of the review page's tests: a client, a project, uploads, a VTT interview, a
hostile transcript, and the CSRF token read from a page as the browser would."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import yaml
from fastapi.testclient import TestClient

from models.testing import HashingEncoder
from service.api.main import create_app
from tests.test_service_support import SMALL_CODEBOOK, service_settings

HOSTILE_TEXT = 'P1: I said <script>alert("x")</script> and " onmouseover="alert(1) twice.\n'
"""A transcript line that would run script if any page rendered it unescaped."""

CODEBOOK_YAML = yaml.safe_dump(SMALL_CODEBOOK).encode()

_LINES = [
    ("Interviewer", "How do you train your models?"),
    ("P3", "We retrain the model every week."),
    ("P3", "Someone could poison the training data."),
    ("Interviewer", "What worries you most?"),
    ("P3", "Attackers craft inputs that fool the classifier."),
    ("P3", "Fake samples could poison the data."),
    ("P3", "We deploy the model on our servers."),
    ("Interviewer", "Anything else?"),
    ("P3", "Crafted inputs fool the classifier at night."),
    ("P3", "We ship a new model each month."),
    ("P3", "Tampering with training data scares me."),
    ("P3", "Thanks for having me."),
]


def interview_vtt(lines: list[tuple[str, str]] = _LINES) -> bytes:
    """A WebVTT file with one cue per (speaker, sentence)."""
    cues = [
        f"00:00:{2 * n:02d}.000 --> 00:00:{2 * n + 1:02d}.500\n<v {speaker}>{text}\n"
        for n, (speaker, text) in enumerate(lines)
    ]
    return ("WEBVTT\n\n" + "\n".join(cues)).encode()


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def page_client(settings_dir: Path, **settings: object) -> TestClient:
    app = create_app(service_settings(settings_dir, **settings), encoder=HashingEncoder())
    return TestClient(app, base_url="http://127.0.0.1")


def sign_in(client: TestClient, key: str, **fields: str) -> httpx.Response:
    """Sign in as the browser does: the form first (its token), then the post."""
    form = client.get("/page/sign-in")
    assert form.status_code == 200, form.text
    token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
    assert token is not None
    data = {"key": key, "sign_in_token": token.group(1), **fields}
    return client.post("/page/sign-in", data=data, follow_redirects=False)


def new_project(client: TestClient, csrf: str, project_id: str = "p1") -> None:
    response = client.post(
        "/page/projects",
        data={"csrf_token": csrf, "project_id": project_id},
        files={"codebook_file": ("threats.yaml", CODEBOOK_YAML)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/page/projects/{project_id}"


def upload(client: TestClient, csrf: str, name: str, content: bytes, project: str = "p1") -> None:
    response = client.post(
        f"/page/projects/{project}/transcripts",
        data={"csrf_token": csrf},
        files={"files": (name, content)},
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text
    assert "sentences stored" in response.text, response.text


def projects_with_interview(client: TestClient, *projects: str) -> str:
    """On a keyless server: a session, and each project with the VTT interview; its token."""
    home = client.get("/page/")
    assert home.status_code == 200, home.text
    csrf = csrf_of(home.text)
    for project in projects:
        new_project(client, csrf, project)
        upload(client, csrf, "interview.vtt", interview_vtt(), project=project)
    return csrf
