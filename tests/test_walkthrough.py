"""README's "Five minutes with the examples", run as written: every ``intercoder`` line between
the ``walkthrough`` markers in a copy of ``examples/`` (with the hashing test encoder and a
fresh data folder), then ``intercoder serve`` and the README's ``curl``, sent with httpx."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.test_service_support import ServerProcess

REPO_ROOT = Path(__file__).resolve().parents[1]
MARKED = re.compile(r"<!-- walkthrough -->\n```bash\n(.*?)```\n<!-- /walkthrough -->", re.S)


def walkthrough() -> list[list[str]]:
    """The walkthrough's commands, each split as the shell would, comments dropped."""
    match = MARKED.search((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its <!-- walkthrough --> block"
    return [shlex.split(line, comments=True) for line in match.group(1).splitlines()]


def _run(words: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "service.cli.main", *words[1:]]  # the `intercoder` script
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{shlex.join(words)}\n{done.stdout[-2000:]}\n{done.stderr}"
    return done


def _curl(words: list[str], base_url: str) -> httpx.Response:
    """The README's curl: a POST of its -d body to its URL, on the test server's port."""
    url = next(word for word in words if word.startswith("localhost:8000/"))
    body = json.loads(words[words.index("-d") + 1])
    return httpx.post(url.replace("localhost:8000", base_url), json=body, timeout=60)


@pytest.mark.slow
def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "INTERCODER_TEST_ENCODER": "hashing",
        "INTERCODER_DATA_DIR": str(tmp_path / "data"),
    }
    commands = [words for words in walkthrough() if words]
    assert [words[0] for words in commands[:1]] == ["source"]  # activates .venv first
    outputs = {}
    for words in commands[1:]:
        if words[:2] == ["intercoder", "serve"]:
            break
        outputs[shlex.join(words[:2])] = _run(words, tmp_path, env)
    suggested = outputs["intercoder suggest"]  # the last suggest: the cold start
    assert "note: cold start" in suggested.stderr
    assert (tmp_path / "coded" / "coded.csv").is_file()
    assert (tmp_path / "report" / "report.html").is_file()
    assert (tmp_path / "study-back.qdpx").is_file()
    assert "warning: 75 of 75 codes" in outputs["intercoder code"].stderr

    server = ServerProcess(tmp_path / "data", tmp_path / "serve.log")
    server.start()
    try:
        response = _curl(commands[-1], server.url)
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["project_id"] == "study"
    assert len(answer["units"]) == 1
    assert [warning["kind"] for warning in answer["warnings"]][:1] == ["thin_codes"]


def test_the_first_suggest_warns_that_the_data_is_thin(tmp_path: Path) -> None:
    """The walkthrough's first step, whose warning the README tells a reader to believe."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "INTERCODER_TEST_ENCODER": "hashing",
        "INTERCODER_DATA_DIR": str(tmp_path / "data"),
    }
    first = next(words for words in walkthrough() if words[:2] == ["intercoder", "suggest"])
    done = _run(first, REPO_ROOT, env)
    assert "-> skipped (this speaker is not coded)" in done.stdout
    assert "warning: 75 of 75 codes have fewer than 10 coded sentences" in done.stderr
