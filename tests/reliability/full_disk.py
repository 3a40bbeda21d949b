"""The full-disk fault: a real server whose data directory is a small tmpfs that fills up.

Writes go on until the disk refuses one. Survived means: every refusal was a 507
``application/problem+json`` problem that says what to do; every write acknowledged (201)
before, during and after is stored (counted after a restart too, so in the database, not only
in memory); reads and suggestions kept working; once the tmpfs grows, writes succeed again
with no restart; and the server's log has warnings, never a traceback (index saves that fail
for want of space included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.reliability.disks import grow_disk, small_disk
from tests.reliability.fault_cases import PROBE, PROJECT, Outcome
from tests.test_service_support import SMALL_CODEBOOK, ServerProcess

FAULT = "full disk (4 MB tmpfs data directory)"
EXPECTED = "507 problem, 0 acknowledged writes lost, writes again when space returns, no traceback"
_ROWS_PER_WRITE = 20
_MAX_WRITES = 400  # 400 x 20 rows of 2 KB is 16 MB, four times the disk


def _rows(write: int) -> list[dict[str, Any]]:
    padding = "x" * 2000  # big rows fill the disk in a few dozen requests
    return [
        {"transcript_id": f"t{write}", "unit_id": f"u{row}", "text": f"{write} {row} {padding}",
         "codes": ["T.1" if row % 2 else "P"]}
        for row in range(_ROWS_PER_WRITE)
    ]  # fmt: skip


class _Writes:
    """What the full disk did to a run of exemplar writes."""

    def __init__(self) -> None:
        self.acknowledged: set[int] = set()
        self.refusals: list[httpx.Response] = []

    def post(self, client: httpx.Client, write: int) -> int:
        response = client.post(
            f"/v1/projects/{PROJECT}/exemplars", json={"exemplars": _rows(write)}
        )
        if response.status_code == 201:
            self.acknowledged.update(response.json()["ids"])
        else:
            self.refusals.append(response)
        return response.status_code


def _clear_507(response: httpx.Response) -> bool:
    problem = response.json() if response.status_code == 507 else {}
    is_problem = response.headers.get("content-type") == "application/problem+json"
    return is_problem and "storage is full" in problem.get("detail", "")


def _stored_ids(client: httpx.Client) -> set[int]:
    ids: set[int] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/projects/{PROJECT}/exemplars", params=params)
        if page.status_code != 200:
            raise AssertionError(f"listing exemplars: {page.status_code} {page.text}")
        body = page.json()
        ids.update(item["id"] for item in body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return ids


def full_disk(_template: Path, work: Path) -> Outcome:
    with small_disk(work / "disk", "4m") as disk:
        server = ServerProcess(disk / "data", work / "server.log")
        server.start()
        try:
            outcome = _fill_and_recover(server, disk)
        finally:
            server.stop()
    if "Traceback" not in (work / "server.log").read_text():
        return outcome
    observed = f"{outcome.observed}; a TRACEBACK in the server's log"
    return Outcome(FAULT, EXPECTED, observed, False)


def _fill_and_recover(server: ServerProcess, disk: Path) -> Outcome:
    writes = _Writes()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        created = client.post("/v1/projects", json={"id": PROJECT, "codebook": SMALL_CODEBOOK})
        if created.status_code != 201:
            raise AssertionError(f"creating the project: {created.status_code} {created.text}")
        for write in range(_MAX_WRITES):
            if writes.post(client, write) != 201:
                break
        full_reads = client.post(
            f"/v1/projects/{PROJECT}/suggestions", json={"sentences": PROBE}
        ).status_code
        grow_disk(disk, "64m")
        after_space = writes.post(client, _MAX_WRITES)
        stored_live = _stored_ids(client)
    server.stop()
    server.start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        stored_after_restart = _stored_ids(client)
    lost = len(writes.acknowledged - stored_after_restart)
    refusals = writes.refusals[:-1] if after_space != 201 else writes.refusals
    statuses = sorted({response.status_code for response in writes.refusals})
    clear = bool(refusals) and all(_clear_507(response) for response in refusals)
    observed = (
        f"refusals {statuses} ({'clear 507 problems' if clear else 'NOT clear 507s'}); "
        f"{len(writes.acknowledged)} acknowledged, {lost} lost; suggestions while full "
        f"{full_reads}; write after space returned {after_space}"
    )
    survived = (
        clear
        and lost == 0
        and full_reads == 200
        and after_space == 201
        and stored_live == stored_after_restart
    )
    return Outcome(FAULT, EXPECTED, observed, survived)
