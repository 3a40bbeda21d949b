"""The quick fuzz: schemathesis with every check on, over every operation, keys required and
given, a few examples each, against a server in this process (the long run is
``python -m tests.reliability.fuzz``, same engine and configuration). The coverage phase, the
slowest, is a test of its own, marked slow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from service.app.keys import create_key
from service.store.database import Store
from tests.reliability.fuzz import CONTENT_RULES, Target, fuzz, seed
from tests.test_service_support import running_service, service_settings

EXAMPLES_PER_OPERATION = 4


def _fuzz(tmp_path: Path, phases: Sequence[str]) -> None:
    settings = service_settings(tmp_path / "data", require_api_keys=True)
    store = Store(settings.database_path)
    key, _ = create_key(store, None, "fuzz")
    store.close()
    headers = {"Authorization": f"Bearer {key}"}
    with running_service(settings, headers=headers) as client:
        seeded = seed(client)
        openapi = client.get("/openapi.json").json()
        target = Target(str(client.base_url), key, openapi, seeded, EXAMPLES_PER_OPERATION, 1)
        result = fuzz(target, phases)
    operations = sum(len(methods) for methods in openapi["paths"].values())
    assert result.operations == operations, result.summary()
    assert result.cases >= operations * EXAMPLES_PER_OPERATION
    assert not result.failures, "\n\n".join(result.failures)


def test_every_operation_passes_every_check(tmp_path: Path) -> None:
    """Examples from the schema, generated requests and sequences of calls."""
    _fuzz(tmp_path, ["examples", "fuzzing", "stateful"])


@pytest.mark.slow
def test_every_operation_passes_every_check_at_its_boundaries(tmp_path: Path) -> None:
    """Schemathesis's coverage phase too: each field at and past its limits, missing
    credentials, undeclared methods (about 1,500 cases, 1-2 minutes)."""
    _fuzz(tmp_path, ["coverage"])


def test_the_content_rule_exemptions_name_real_operations(tmp_path: Path) -> None:
    """An exemption for an operation that is gone (or renamed) would silently exempt nothing."""
    with running_service(service_settings(tmp_path / "data")) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for method, path in CONTENT_RULES:
        assert method.lower() in paths.get(path, {}), (method, path)
