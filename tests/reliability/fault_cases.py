"""Each fault the service must survive, run against real ``intercoder serve`` processes.

A case breaks something (a full disk, a read-only or damaged database, a missing or damaged
index or cache, a missing or wrong model), runs the server on it, and returns an
:class:`Outcome`: what was expected, what was seen, and whether the service survived. Survived
means one of: it refused to start with one ``error:`` line and no traceback; it started and
rebuilt what was damaged from the database, saying so in its log, and serves what it served
before; or (full disk) it answered 507 problems, lost nothing it had acknowledged, and wrote
again once space returned, without a restart.

The deterministic hashing test encoder stands in for the model, which does not matter here,
except in the model cases, which never get as far as loading one.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.store.schema import SCHEMA_VERSION
from tests.conftest import REPO_ROOT
from tests.reliability.disks import read_only
from tests.test_service_support import CODED_ROWS, SMALL_CODEBOOK, ServerProcess, free_port

PROJECT = "p1"
SUGGESTIONS = "suggestions.json"
PROBE = ["Someone could poison the training data.", "We retrain every week."]


@dataclass(frozen=True)
class Outcome:
    fault: str
    expected: str
    observed: str
    survived: bool


def _json(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise AssertionError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


def _suggestions(client: httpx.Client) -> str:
    """The project's suggestions for the probe sentences, as comparable text."""
    body = {"sentences": PROBE}
    answer = _json(client.post(f"/v1/projects/{PROJECT}/suggestions", json=body), 200)
    return json.dumps(answer["units"], sort_keys=True)


def populated(root: Path) -> Path:
    """A data directory with one project and its exemplars, written by a real server that was
    then stopped (the template every case copies); the suggestions it gave are saved beside
    it, to compare with after a fault."""
    data_dir = root / "template"
    server = ServerProcess(data_dir, root / "template.log")
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            created = {"id": PROJECT, "codebook": SMALL_CODEBOOK}
            _json(client.post("/v1/projects", json=created), 201)
            rows = {"exemplars": CODED_ROWS}
            _json(client.post(f"/v1/projects/{PROJECT}/exemplars", json=rows), 201)
            (root / SUGGESTIONS).write_text(_suggestions(client))
    finally:
        server.stop()
    return data_dir


# ----- faults at start: one clear line, never a traceback -----------------------------------


def refused_start(data_dir: Path, **env: str) -> tuple[bool, str]:
    """Run ``intercoder serve`` on ``data_dir``; whether it refused in one ``error:`` line,
    and what it printed (or that it started)."""
    environment = {**os.environ, "INTERCODER_TEST_ENCODER": "hashing", **env}
    environment = {name: value for name, value in environment.items() if value}
    command = [sys.executable, "-m", "service.cli.main", "--data-dir", str(data_dir), "serve"]
    try:
        done = subprocess.run(
            [*command, "--port", str(free_port())],
            cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False, "it started and served on the damaged data (no refusal within 60 s)"
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    one_line = len(lines) == 1 and lines[0].startswith("error:")
    printed = " | ".join(lines[-3:]).replace(str(data_dir.parent), "CASE") if lines else "-"
    return one_line and done.returncode != 0, f"exit {done.returncode}: {printed}"


def _refusal_case(
    fault: str, damage: Callable[[Path], None], *, env: dict[str, str] | None = None
) -> Callable[[Path, Path], Outcome]:
    def case(template: Path, work: Path) -> Outcome:
        data_dir = work / "data"
        shutil.copytree(template, data_dir)
        damage(data_dir)
        filled = {name: value.format(work=work) for name, value in (env or {}).items()}
        survived, observed = refused_start(data_dir, **filled)
        return Outcome(fault, "refuses to start: exit != 0, one error: line", observed, survived)

    return case


def _garbage(data_dir: Path) -> None:
    (data_dir / "intercoder.sqlite3").write_bytes(os.urandom(64 * 1024))


def _truncated(data_dir: Path) -> None:
    database = data_dir / "intercoder.sqlite3"
    database.write_bytes(database.read_bytes()[:5000])


def _newer_schema(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "intercoder.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 99")


def _fake_model(data_dir: Path) -> None:
    model = data_dir.parent / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"not the weights you pinned")


def _read_only_case(fault: str, target: str) -> Callable[[Path, Path], Outcome]:
    def case(template: Path, work: Path) -> Outcome:
        data_dir = work / "data"
        shutil.copytree(template, data_dir)
        with read_only(data_dir / target if target else data_dir):
            survived, observed = refused_start(data_dir)
        return Outcome(fault, "refuses to start: exit != 0, one error: line", observed, survived)

    return case


# ----- faults a start repairs: rebuilt from the database, with a log line ------------------


def _rebuild_case(
    fault: str, damage: Callable[[Path], None], log_says: str
) -> Callable[[Path, Path], Outcome]:
    def case(template: Path, work: Path) -> Outcome:
        data_dir, log = work / "data", work / "server.log"
        shutil.copytree(template, data_dir)
        before = (template.parent / SUGGESTIONS).read_text()
        damage(data_dir)
        server = ServerProcess(data_dir, log)
        try:
            server.start()
            with httpx.Client(base_url=server.url, timeout=60) as client:
                after = _suggestions(client)
        except RuntimeError as error:
            return Outcome(fault, f"starts, {log_says}", f"did not start: {error}"[:300], False)
        finally:
            server.stop()
        logged = log_says in log.read_text()
        traceback = "Traceback" in log.read_text()
        observed = (
            f"started; log {'has' if logged else 'LACKS'} '{log_says}'; suggestions "
            f"{'same as' if after == before else 'DIFFER from'} before"
            + ("; a TRACEBACK in the log" if traceback else "")
        )
        survived = logged and after == before and not traceback
        return Outcome(fault, f"starts, {log_says}, same suggestions", observed, survived)

    return case


def _index_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "projects" / PROJECT / "index").iterdir())


def _corrupt_index(data_dir: Path) -> None:
    for file in _index_files(data_dir):
        file.write_bytes(os.urandom(300))


def _missing_index(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "projects" / PROJECT / "index")


def _corrupt_state(data_dir: Path) -> None:
    (data_dir / "projects" / PROJECT / "index-state.json").write_text("{not json")


def _corrupt_cache(data_dir: Path) -> None:
    (data_dir / "embeddings.sqlite").write_bytes(os.urandom(16 * 1024))


def previous_release(_template: Path, work: Path) -> Outcome:
    """The committed database of the previous release (schema v1) opens migrated."""
    data_dir = work / "data"
    data_dir.mkdir()
    shutil.copy(V1_DATABASE, data_dir / "intercoder.sqlite3")
    server = ServerProcess(data_dir, work / "server.log")
    try:
        server.start()
        project = _json(httpx.get(f"{server.url}/v1/projects/study-1", timeout=60), 200)
    except (RuntimeError, AssertionError) as error:
        return Outcome(V1_FAULT, V1_EXPECTED, f"{error}"[:300], False)
    finally:
        server.stop()
    with sqlite3.connect(data_dir / "intercoder.sqlite3") as connection:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    counts = (project["exemplar_count"], project["index_exemplar_count"])
    observed = f"started; schema version now {version}; study-1 serves {counts[0]} exemplars"
    return Outcome(V1_FAULT, V1_EXPECTED, observed, version == SCHEMA_VERSION and counts == (9, 9))


V1_DATABASE = REPO_ROOT / "tests" / "fixtures" / "intercoder-v1.sqlite3"
V1_FAULT = "database of the previous release (schema v1)"
V1_EXPECTED = f"starts, migrated to v{SCHEMA_VERSION}, its 9 exemplars served"
REBUILT = "rebuilt the exemplar index of project p1 from the database"

CASES: dict[str, Callable[[Path, Path], Outcome]] = {
    "garbage database file": _refusal_case("garbage database file", _garbage),
    "truncated database file": _refusal_case("truncated database file", _truncated),
    "database of a newer schema": _refusal_case("database of a newer schema", _newer_schema),
    "read-only data directory": _read_only_case("read-only data directory", ""),
    "read-only database file": _read_only_case("read-only database file", "intercoder.sqlite3"),
    "missing model folder": _refusal_case(
        "missing model folder",
        lambda _: None,
        env={"INTERCODER_TEST_ENCODER": "", "INTERCODER_MODEL_PATH": "/nonexistent/model"},
    ),
    "model sha256 mismatch": _refusal_case(
        "model sha256 mismatch",
        _fake_model,
        env={
            "INTERCODER_TEST_ENCODER": "",
            "INTERCODER_MODEL_PATH": "{work}/model",
            "INTERCODER_MODEL_SHA256": "0" * 64,
        },
    ),
    "missing index": _rebuild_case("missing index", _missing_index, REBUILT),
    "corrupt index files": _rebuild_case("corrupt index files", _corrupt_index, REBUILT),
    "corrupt index state file": _rebuild_case("corrupt index state file", _corrupt_state, REBUILT),
    "corrupt embedding cache": _rebuild_case(
        "corrupt embedding cache", _corrupt_cache, "set aside as"
    ),
    V1_FAULT: previous_release,
}
