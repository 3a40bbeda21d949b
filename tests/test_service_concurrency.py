"""Twenty clients at once: adding exemplars, deciding and asking for suggestions, over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.test_service_support import (
    CODED_ROWS,
    checked,
    create_project,
    running_service,
    service_settings,
)

CLIENTS = 20
ROUNDS = 4  # per client; every loop is bounded, so a hang fails by timeout instead of spinning


def _client_work(base_url: str, worker: int) -> tuple[list[int], list[int]]:
    """One client's session; returns (statuses, ids of the exemplars it was told it added)."""
    statuses: list[int] = []
    added: list[int] = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for round_ in range(ROUNDS):
            rows = [
                {
                    "transcript_id": f"w{worker}",
                    "text": f"worker {worker} poisons data {round_} {i}",
                    "codes": ["T.1"] if i else ["P"],
                }
                for i in range(2)
            ]
            response = client.post("/v1/projects/p1/exemplars", json={"exemplars": rows})
            statuses.append(response.status_code)
            if response.status_code == 201:
                added += response.json()["ids"]
            response = client.post(
                "/v1/projects/p1/suggestions",
                json={"sentences": [f"does worker {worker} poison data"], "k": 5},
            )
            statuses.append(response.status_code)
            decision = {
                "action": "change",
                "coder": f"coder{worker}",
                "text": f"decided by {worker} in round {round_}",
                "codes": ["T.2"],
            }
            response = client.post("/v1/projects/p1/decisions", json=decision)
            statuses.append(response.status_code)
            if response.status_code == 201:
                added.append(response.json()["exemplar_id"])
    return statuses, added


def test_twenty_concurrent_clients_lose_nothing(tmp_path: Path) -> None:
    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        seeded = checked(
            client.post("/v1/projects/p1/exemplars", json={"exemplars": CODED_ROWS}), 201
        )
        base_url = str(client.base_url)
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(_client_work, base_url, worker) for worker in range(CLIENTS)]
            results = [future.result(timeout=300) for future in futures]
        statuses = [status for worker_statuses, _ in results for status in worker_statuses]
        assert all(status < 500 for status in statuses), sorted(set(statuses))
        assert set(statuses) <= {200, 201}, sorted(set(statuses))
        acknowledged = {id_ for _, ids in results for id_ in ids} | set(seeded["ids"])
        assert len(acknowledged) == len(CODED_ROWS) + CLIENTS * ROUNDS * 3

        project = client.get("/v1/projects/p1").json()
        assert project["exemplar_count"] == len(acknowledged)
        assert project["index_exemplar_count"] == len(acknowledged)
        assert project["change_counter"] == 1 + CLIENTS * ROUNDS * 2
        stored, cursor = set(), None
        for _ in range(100):
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = client.get("/v1/projects/p1/exemplars", params=params).json()
            stored |= {item["id"] for item in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert stored == acknowledged
        decisions = client.get("/v1/projects/p1/decisions", params={"limit": 500}).json()
        assert len(decisions["items"]) == CLIENTS * ROUNDS
