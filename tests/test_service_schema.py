"""Schemathesis against the service's OpenAPI document: generated requests never get a 5xx.

Every operation gets a bounded number of generated requests (examples from the schema, then
random ones) over real HTTP; responses must not be server errors, must use a status the
operation documents, and must match the documented response schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.test_service_support import (
    CODED_ROWS,
    SMALL_CODEBOOK,
    TRANSCRIPT_TXT,
    add_exemplars,
    running_service,
    service_settings,
)

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir: Path = tmp_path_factory.mktemp("schema") / "data"
    with running_service(service_settings(data_dir, max_request_bytes=64 * 1024)) as client:
        _seed(client)
        yield schemathesis.openapi.from_url(f"{client.base_url}/openapi.json")


def _seed(client: httpx.Client) -> None:
    """The project and transcript the schema's examples name, so examples reach real work."""
    created = client.post("/v1/projects", json={"id": "study-1", "codebook": SMALL_CODEBOOK})
    assert created.status_code == 201, created.text
    add_exemplars(client, "study-1", CODED_ROWS)
    files = {"file": ("interview-03.txt", TRANSCRIPT_TXT)}
    assert client.post("/v1/projects/study-1/transcripts", files=files).status_code == 201


def _check_operation(operation: Any, mode: GenerationMode, fixed: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, timeout=60)

    run()


def _seeded_ids(operation: Any) -> dict[str, str]:
    """Path parameters naming the seeded project and transcript, so requests reach real work."""
    seeded = {"project_id": "study-1", "transcript_id": "interview-03"}
    return {name: value for name, value in seeded.items() if f"{{{name}}}" in operation.path}


@pytest.mark.slow
def test_generated_requests_get_no_server_error(api_schema: Any) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    # Deleting projects last: the generator may pick the seeded project's id from the examples.
    operations.sort(key=lambda op: op.method.upper() == "DELETE" and op.path.endswith("}"))
    for operation in operations:
        runs: list[tuple[GenerationMode, dict[str, str]]] = [
            (GenerationMode.POSITIVE, {}),
            (GenerationMode.NEGATIVE, {}),
        ]
        if seeded := _seeded_ids(operation):
            runs.append((GenerationMode.POSITIVE, seeded))
        for mode, fixed in runs:
            try:
                _check_operation(operation, mode, fixed)
            except Unsatisfiable:
                continue  # no invalid request exists for an operation without inputs
            except Exception as failure:  # collect every operation's failure, then report
                failures.append(f"{operation.label} ({mode.value}, {fixed}): {failure}")
    assert not failures, "\n\n".join(failures)
