"""Every fault case of the reliability suite against real ``intercoder serve`` processes
(``python -m tests.reliability.faults`` runs the same cases and prints the table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.disks import FaultUnavailableError
from tests.reliability.fault_cases import populated
from tests.reliability.faults import ALL_CASES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return populated(tmp_path_factory.mktemp("faults"))


@pytest.mark.parametrize("fault", list(ALL_CASES))
def test_the_service_survives(fault: str, template: Path, tmp_path: Path) -> None:
    try:
        outcome = ALL_CASES[fault](template, tmp_path)
    except FaultUnavailableError as why:
        pytest.skip(f"this machine cannot make the fault: {why}")
    assert outcome.survived, f"{outcome.fault}: expected {outcome.expected}; saw {outcome.observed}"
