"""Schemathesis over every operation of the OpenAPI schema, keys required and given, every
check on: no 5xx, answers as documented, schema-valid requests accepted and invalid ones
refused, authentication enforced, 405 answers with ``Allow`` (RFC 9110).

The long run, for eval/RESULTS.md (a real ``intercoder serve`` in a subprocess)::

    python -m tests.reliability.fuzz --examples 200

prints the operations, cases and failures (each failure in full). The quick test
(tests/reliability/test_fuzz_api.py) runs the same engine and configuration with a few examples
per operation against a server in the test process.

One exemption, stated here and in the README's security section: a few operations take
content whose rules JSON Schema cannot state (a file's format, a codebook's cross-references,
codes that must exist in the project's codebook, one speaker per sentence). For those, and
only those, a 422 problem is a correct answer to a schema-valid request (:data:`CONTENT_RULES`
says why for each).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import from_schema
from schemathesis.engine.events import (
    FatalError,
    NonFatalError,
    PhaseFinished,
    PhaseStarted,
    ScenarioFinished,
)
from schemathesis.engine.statistic import Statistic

from service.app.keys import create_key
from service.store.database import Store
from tests.reliability.suite import figure_line
from tests.test_service_support import CODED_ROWS, SMALL_CODEBOOK, TRANSCRIPT_TXT, ServerProcess

PROJECT = "study-1"
SCRATCH_PROJECT = "scratch"
TRANSCRIPT = "interview-03"
PROJECT_PATH = "/v1/projects/{project_id}"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
"""Answers to a schema-valid request that are not a failure: schemathesis's default, less 5xx."""

CONTENT_RULES: dict[tuple[str, str], str] = {
    ("POST", "/v1/projects"): "an inline codebook's ids, parents and roles refer to each other",
    ("PUT", "/v1/projects/{project_id}/codebook"): "the same inline codebook rules",
    ("POST", "/v1/projects/import"): "the file must be a REFI-QDA .qdpx or .qdc",
    ("POST", "/v1/projects/{project_id}/transcripts"): "the file must be a readable transcript",
    ("POST", "/v1/projects/{project_id}/exemplars/csv"): "the file must be a coded-units CSV",
    ("POST", "/v1/projects/{project_id}/exemplars"): "codes must be in the project's codebook",
    ("POST", "/v1/projects/{project_id}/decisions"): "codes must be in the project's codebook",
    ("POST", "/v1/projects/{project_id}/suggestions"): "one speaker (and previous text) per "
    "sentence",
}
"""Operations where a 422 answers a schema-valid request, and the rule JSON Schema cannot say."""


@dataclass
class Seeded:
    """What the fuzzed operations' path parameters name, so requests reach real work."""

    batch_id: str
    exemplar_id: int


@dataclass
class FuzzResult:
    operations: int
    cases: int
    failures: list[str] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        phases = ", ".join(f"{name} {took:.0f} s" for name, took in self.phase_seconds.items())
        return (
            f"schemathesis, all checks: {self.operations} operations, {self.cases} cases, "
            f"{len(self.failures)} failures (phases: {phases})"
        )


def seed(client: httpx.Client) -> Seeded:
    """A project with a codebook, exemplars in 12 transcripts (enough groups for any fold
    count), a stored transcript, a batch; and a scratch project the DELETE may remove."""
    for project_id in (PROJECT, SCRATCH_PROJECT):
        created = client.post("/v1/projects", json={"id": project_id, "codebook": SMALL_CODEBOOK})
        assert created.status_code == 201, created.text
    rows = [
        {**row, "transcript_id": f"t{copy}-{row['transcript_id']}"}
        for copy in range(4)
        for row in CODED_ROWS
    ]
    added = client.post(f"/v1/projects/{PROJECT}/exemplars", json={"exemplars": rows})
    assert added.status_code == 201, added.text
    files = {"file": (f"{TRANSCRIPT}.txt", TRANSCRIPT_TXT)}
    uploaded = client.post(f"/v1/projects/{PROJECT}/transcripts", files=files)
    assert uploaded.status_code == 201, uploaded.text
    batch = client.post(f"/v1/projects/{PROJECT}/batches", json={"format": "csv"})
    assert batch.status_code == 202, batch.text
    return Seeded(batch_id=batch.json()["id"], exemplar_id=added.json()["ids"][-1])


def path_parameters(path: str, method: str, seeded: Seeded) -> dict[str, str]:
    """The seeded ids for the parameters in ``path`` (the DELETE of a project gets the scratch
    project, so the seeded one stays for the rest of the run)."""
    project = SCRATCH_PROJECT if (method, path) == ("DELETE", PROJECT_PATH) else PROJECT
    values = {
        "project_id": project,
        "transcript_id": TRANSCRIPT,
        "batch_id": seeded.batch_id,
        "exemplar_id": str(seeded.exemplar_id),
    }
    return {f"path.{name}": value for name, value in values.items() if f"{{{name}}}" in path}


def fuzz_config(
    openapi: dict[str, Any],
    key: str,
    seeded: Seeded,
    examples: int,
    seed_value: int,
    phases: Sequence[str] = PHASES,
    seeded_paths: bool = True,
) -> SchemathesisConfig:
    """Every check on (schemathesis's default), the key for both declared schemes, the seeded
    ids in the paths (unless ``seeded_paths`` is false), and the content-rule exemptions; one
    entry per operation, so that no two entries' settings meet. ``phases``: schemathesis's
    phases to run (all by default)."""
    operations: list[dict[str, Any]] = []
    for path, methods in openapi["paths"].items():
        for method in (name.upper() for name in methods):
            entry: dict[str, Any] = {"include-path": path, "include-method": method}
            if seeded_paths and (parameters := path_parameters(path, method, seeded)):
                entry["parameters"] = parameters
            if (method, path) in CONTENT_RULES:
                statuses = [*ACCEPTED, "422"]
                entry["checks"] = {"positive_data_acceptance": {"expected-statuses": statuses}}
            if len(entry) > 2:
                operations.append(entry)
    return SchemathesisConfig.from_dict(
        {
            "seed": seed_value,
            "generation": {"max-examples": examples},
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]}},
            "auth": {"openapi": {"APIKeyHeader": {"api_key": key}, "HTTPBearer": {"bearer": key}}},
            "operations": operations,
            "phases": {name: {"enabled": name in phases} for name in PHASES},
        }
    )


@dataclass(frozen=True)
class Target:
    """A seeded service to fuzz, and how much."""

    url: str
    key: str
    openapi: dict[str, Any]
    seeded: Seeded
    examples: int
    seed_value: int


def fuzz(target: Target, phases: Sequence[str] = PHASES) -> FuzzResult:
    """Schemathesis's ``phases`` against ``target``, in two passes. The coverage phase runs
    without the seeded path ids: it makes path parameters invalid on purpose, and an id fixed
    by the configuration replaces its invalid value, so a request it meant to be invalid
    arrives valid, is answered 200 and is reported as "schema-violating request accepted".
    It takes the schema's examples (which name the seeded project) instead."""
    passes = [
        ([phase for phase in phases if phase != "coverage"], True),
        ([phase for phase in phases if phase == "coverage"], False),
    ]
    results = []
    for chosen, seeded_paths in passes:
        if not chosen:
            continue
        config = fuzz_config(
            target.openapi,
            target.key,
            target.seeded,
            target.examples,
            target.seed_value,
            chosen,
            seeded_paths,
        )
        schema = schemathesis.openapi.from_url(f"{target.url}/openapi.json", config=config)
        results.append(run_fuzz(schema))
    return FuzzResult(
        operations=max(result.operations for result in results),
        cases=sum(result.cases for result in results),
        failures=[failure for result in results for failure in result.failures],
        phase_seconds={
            name: sum(result.phase_seconds.get(name, 0.0) for result in results) for name in PHASES
        },
    )


def run_fuzz(schema: Any) -> FuzzResult:
    """Run schemathesis's engine (every phase: examples, coverage, fuzzing, stateful) and
    collect its cases and failures."""
    statistic = Statistic()
    errors: list[str] = []
    started: dict[str, float] = {}
    phase_seconds: dict[str, float] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, PhaseStarted):
            started[event.phase.name.value] = event.timestamp
        elif isinstance(event, PhaseFinished):
            name = event.phase.name.value
            took = event.timestamp - started.get(name, event.timestamp)
            phase_seconds[name] = phase_seconds.get(name, 0.0) + took  # a phase may run twice
        elif isinstance(event, ScenarioFinished):
            statistic.on_scenario_finished(event.recorder)
        elif isinstance(event, NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, FatalError):
            raise event.exception
    operations = len(statistic.tested_operations | statistic.errored_operations)
    failures = [
        f"{label}: {failure.title}\n{failure.message}\n{group.code_sample}"
        for label, groups in statistic.failures.items()
        for group in groups.values()
        for failure in group.failures
    ]
    failures += errors
    return FuzzResult(operations, statistic.total_cases, failures, phase_seconds)


def admin_key(data_dir: Path) -> str:
    store = Store(data_dir / "intercoder.sqlite3")
    try:
        key, _ = create_key(store, None, "fuzz")
    finally:
        store.close()
    return key


@contextmanager
def keyed_server(data_dir: Path) -> Iterator[tuple[str, str]]:
    """A real ``intercoder serve`` requiring keys, seeded; yields its URL and the admin key."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = admin_key(data_dir)
    os.environ["INTERCODER_REQUIRE_API_KEYS"] = "true"  # the child inherits it
    server = ServerProcess(data_dir, data_dir.parent / "server.log")
    server.start()
    try:
        yield server.url, key
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples", type=int, default=200, help="cases per operation (the long run: 200)"
    )
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="intercoder-fuzz-") as folder,
        keyed_server(Path(folder) / "data") as (url, key),
    ):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            seeded = seed(client)
            openapi = client.get("/openapi.json").json()
        result = fuzz(Target(url, key, openapi, seeded, options.examples, options.seed))
    for failure in result.failures:
        print(failure, end="\n\n")
    print(result.summary())
    print(figure_line("fuzz operations", result.operations))
    print(figure_line("fuzz cases", result.cases))
    print(figure_line("fuzz failures", len(result.failures)))
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
