"""Shared pieces of the service tests: real servers on free 127.0.0.1 ports, and sample data.

Servers run for real: uvicorn in a thread of the test process (``running_service``), or in a
subprocess (``ServerProcess``) when the test must kill it. Both store into a real SQLite file
under the test's temporary folder. The deterministic HashingEncoder stands in for the model;
a subprocess selects it with the ``INTERCODER_TEST_ENCODER=hashing`` test hook.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from models.encoder import Encoder
from models.testing import HashingEncoder
from service.api.main import create_app
from service.settings import Settings
from tests.conftest import REPO_ROOT

SMALL_CODEBOOK: dict[str, Any] = {
    "name": "Threats",
    "codes": [
        {"id": "T", "name": "Threats", "codable": False},
        {
            "id": "T.1",
            "parent": "T",
            "name": "data poisoning",
            "definition": "Someone tampers with the training data.",
            "examples": ["They could poison the training data with fake samples."],
        },
        {
            "id": "T.2",
            "parent": "T",
            "name": "evasion",
            "definition": "Inputs crafted to fool a deployed model.",
            "examples": ["Attackers craft inputs that fool the classifier."],
        },
        {
            "id": "P",
            "name": "practice",
            "definition": "How the team trains and ships models.",
            "examples": ["We retrain the model every week."],
        },
    ],
}

CODED_ROWS: list[dict[str, Any]] = [
    {"transcript_id": "t1", "text": "Someone could poison our training data.", "codes": ["T.1"]},
    {"transcript_id": "t1", "text": "We retrain the model every week.", "codes": ["P"]},
    {"transcript_id": "t1", "text": "I had coffee this morning.", "codes": []},
    {"transcript_id": "t2", "text": "Fake samples could poison the data.", "codes": ["T.1"]},
    {"transcript_id": "t2", "text": "Crafted inputs fool the classifier.", "codes": ["T.2"]},
    {"transcript_id": "t2", "text": "We deploy the model on our servers.", "codes": ["P"]},
    {"transcript_id": "t3", "text": "Attackers craft inputs to fool it.", "codes": ["T.2"]},
    {"transcript_id": "t3", "text": "Thanks for having me.", "codes": []},
]

TRANSCRIPT_TXT = (
    "Interviewer: How do you train your models?\n"
    "P3: We retrain the model every week. Someone could poison the training data.\n"
    "Interviewer: Thanks.\n"
)


def service_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test service: this data_dir, quick index saves, the host name of
    TestClient's default base URL (testserver) allowed, the rest as given."""
    defaults: dict[str, Any] = {
        "index_save_seconds": 0.5,
        "allowed_hosts": ["localhost", "127.0.0.1", "::1", "testserver"],
    }
    return Settings(data_dir=data_dir, **{**defaults, **overrides})


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port; yields its base URL."""
    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start; see the log above")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def running_service(
    settings: Settings, encoder: Encoder | None = None, headers: dict[str, str] | None = None
) -> Iterator[httpx.Client]:
    """A real server for ``settings`` (HashingEncoder unless given) and a client for it."""
    app = create_app(settings, encoder=encoder or HashingEncoder())
    with (
        serve_in_thread(app) as base_url,
        httpx.Client(base_url=base_url, timeout=60, headers=headers) as client,
    ):
        yield client


def checked(response: httpx.Response, status: int = 200) -> Any:
    """The answer's JSON body once its status is the one expected (set-up requests too: a
    test built on a refused request tests nothing)."""
    assert response.status_code == status, response.text
    return response.json()


def create_project(client: httpx.Client, project_id: str = "p1", **extra: Any) -> dict[str, Any]:
    body = {"id": project_id, "codebook": SMALL_CODEBOOK, **extra}
    response = client.post("/v1/projects", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def add_exemplars(
    client: httpx.Client, project_id: str, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    response = client.post(f"/v1/projects/{project_id}/exemplars", json={"exemplars": rows})
    assert response.status_code == 201, response.text
    added: dict[str, Any] = response.json()
    return added


def free_port() -> int:
    with _bound_socket() as sock:
        port: int = sock.getsockname()[1]
        return port


def is_ready(url: str) -> bool:
    """Whether a service at ``url`` answers /readyz with 200 now."""
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


class ServerProcess:
    """``python -m service.cli.serve`` in a subprocess, with the hashing test encoder.

    ``env`` adds environment variables, or removes those set to None (``{"INTERCODER_TEST_ENCODER":
    None}`` runs the real default model)."""

    def __init__(
        self, data_dir: Path, log_path: Path, env: dict[str, str | None] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = env or {}
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "INTERCODER_DATA_DIR": str(self.data_dir),
            "INTERCODER_INDEX_SAVE_SECONDS": "0.3",
            "INTERCODER_TEST_ENCODER": "hashing",
        }
        for name, value in self.env.items():
            env.pop(name, None)
            if value is not None:
                env[name] = value
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service.cli.serve", "--port", str(self.port)],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; log: {self.log_path.read_text()[-3000:]}")
            if is_ready(self.url):
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"the server did not get ready; log: {self.log_path.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, the graceful way, as systemd or docker stop would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def test_the_thread_server_answers_health_checks(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["model_id"] == "test-hashing-encoder"
