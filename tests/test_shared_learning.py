"""Suggestions that waited while their project's coder learned take that coder when it knows
every change committed before they arrived, instead of each learning again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.project_coder import ProjectCoder
from service.app.engine import SuggestionEngine
from tests.test_service_support import (
    CODED_ROWS,
    add_exemplars,
    create_project,
    running_service,
    service_settings,
)


def _suggest(base_url: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=90) as client:
        return client.post("/v1/projects/p1/suggestions", json={"sentences": ["poison the data"]})


def _wait(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_waiting_suggestions_share_one_learn_and_later_ones_see_later_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    learning = threading.Event()
    release = threading.Event()
    learns: list[int] = []
    arrivals: list[int] = []
    original_learn = ProjectCoder.learn
    original_now = SuggestionEngine._now

    def held_learn(self: ProjectCoder, *args: Any, **kwargs: Any) -> ProjectCoder:
        learns.append(1)
        learning.set()
        release.wait(timeout=60)
        return original_learn(self, *args, **kwargs)

    def counted_now(self: SuggestionEngine, project_id: str) -> Any:
        found = original_now(self, project_id)
        arrivals.append(found.change_counter)
        return found

    with running_service(service_settings(tmp_path / "data")) as client:
        create_project(client)
        add_exemplars(client, "p1", CODED_ROWS)
        assert client.post("/v1/projects/p1/suggestions", json={"sentences": ["hi"]}).is_success
        first = {"transcript_id": "w", "text": "they poison data", "codes": ["T.1"]}
        add_exemplars(client, "p1", [first])
        monkeypatch.setattr(ProjectCoder, "learn", held_learn)
        monkeypatch.setattr(SuggestionEngine, "_now", counted_now)
        base_url = str(client.base_url)
        with ThreadPoolExecutor(3) as pool:
            learner = pool.submit(_suggest, base_url)  # learns the first change, held
            assert learning.wait(timeout=30)
            waiting = [pool.submit(_suggest, base_url) for _ in range(2)]
            _wait(lambda: len(arrivals) == 3)  # both arrived, before the second change
            second = {"transcript_id": "w", "text": "they fool models", "codes": ["T.2"]}
            add_exemplars(client, "p1", [second])
            release.set()
            answers = [learner.result(timeout=60)] + [f.result(timeout=60) for f in waiting]
        learns_while_waiting = len(learns)
        later = client.post("/v1/projects/p1/suggestions", json={"sentences": ["hi"]})

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    known = len(CODED_ROWS) + 1
    assert [answer.json()["exemplar_count"] for answer in answers] == [known] * 3
    assert learns_while_waiting == 1
    assert later.json()["exemplar_count"] == known + 1  # the second change counts next time
    assert len(learns) == 2
