"""The Docker image, built and run with podman (daemonless, from Debian's packages): it builds,
starts, answers /readyz, gives a suggestion with an API key, and stops on SIGTERM.

Extra ``podman build`` arguments come from ``INTERCODER_PODMAN_BUILD_ARGS`` (a machine that
cannot reach Docker Hub or the PyTorch index passes a local base image and wheel index; see
README, Docker).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.test_service_support import CODED_ROWS, SMALL_CODEBOOK, free_port, is_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.container,
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
]
IMAGE = "localhost/intercoder:test"


def _podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{shlex.join(done.args)}: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def image() -> str:
    extra = shlex.split(os.environ.get("INTERCODER_PODMAN_BUILD_ARGS", ""))
    _ok(_podman("build", "-t", IMAGE, *extra, str(REPO_ROOT), timeout=1800))
    return IMAGE


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"intercoder-test-{uuid.uuid4().hex[:8]}"
    _ok(_podman("volume", "create", name))
    yield name
    _podman("volume", "rm", "--force", name)


def _wait_ready(url: str, container: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_ready(url):
            return
        time.sleep(1)
    logs = _podman("logs", container).stdout + _podman("logs", container).stderr
    raise AssertionError(f"the container did not get ready; its log: {logs[-3000:]}")


def test_the_image_serves_a_suggestion_and_stops_cleanly(image: str, volume: str) -> None:
    data = ["-v", f"{volume}:/data"]
    key = _ok(_podman("run", "--rm", *data, image, "serve", "--create-key")).strip()
    port, container = free_port(), f"intercoder-test-{uuid.uuid4().hex[:8]}"
    _ok(_podman("run", "-d", "--name", container, "-p", f"127.0.0.1:{port}:8000", *data, image))
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, container)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            assert client.get("/v1/projects", headers={"Authorization": ""}).status_code == 401
            created = client.post("/v1/projects", json={"id": "p1", "codebook": SMALL_CODEBOOK})
            assert created.status_code == 201, created.text
            added = client.post("/v1/projects/p1/exemplars", json={"exemplars": CODED_ROWS})
            assert added.status_code == 201, added.text
            body = {"sentences": ["Someone could poison the training data."]}
            suggested = client.post("/v1/projects/p1/suggestions", json=body)
        assert suggested.status_code == 200, suggested.text
        assert "all-MiniLM-L6-v2" in suggested.json()["agent"]  # the model inside the image
        assert len(suggested.json()["units"]) == 1
        _ok(_podman("stop", "--time", "60", container, timeout=90))
        state = _ok(_podman("inspect", "--format", "{{.State.ExitCode}}", container))
        assert state.strip() == "0"  # SIGTERM: requests finished, indexes saved, store closed
    finally:
        _podman("rm", "--force", container)
