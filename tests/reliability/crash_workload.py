"""The writers of the crash suite, and the ledger of what the server acknowledged.

Each writer is a thread with its own HTTP client that sends a random mix of requests to the
server until it is told to stop or the server is gone (killed): exemplar adds and deletes,
decisions (ad hoc and on stored sentences), transcript uploads, codebook replacements, REFI-QDA
imports, and the suggestions and batch runs that make the project's coder refit. Writers never
assert: they write what was sent and what was answered into the :class:`Ledger`, and the checks
(``tests.reliability.crash_checks``) compare it with the database after the restart.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.test_service_support import SMALL_CODEBOOK

PROJECT = "p1"
CODES = ("T.1", "T.2", "P")
WORDS = ("poison", "training", "data", "attackers", "craft", "inputs", "retrain", "weekly")
WRITES = (
    "exemplar_add",
    "exemplar_delete",
    "decision",
    "transcript",
    "codebook",
    "refi_import",
    "project_delete",
)
"""The kinds of acknowledged writes that must survive a kill."""
REFI_PREFIX = "refi-"
"""Projects made by REFI-QDA imports have ids starting with this."""


@dataclass(frozen=True)
class ImportCounts:
    """What one import of the sample .qdpx stores."""

    transcripts: int
    sentences: int
    exemplars: int


@dataclass
class Ledger:
    """Everything sent and acknowledged, across all cycles; guarded by ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: Counter[str] = field(default_factory=Counter)
    exemplar_texts: dict[int, str] = field(default_factory=dict)
    """Acknowledged exemplars of the project (added, or made by a decision): id -> text."""
    add_batches: list[tuple[str, ...]] = field(default_factory=list)
    """Every exemplar batch sent, acknowledged or not: all of it is stored, or none."""
    delete_sent: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    decisions: dict[int, int | None] = field(default_factory=dict)
    """Acknowledged decisions: id -> the exemplar it made."""
    transcripts: dict[str, int] = field(default_factory=dict)
    """Acknowledged transcripts: id -> sentence count."""
    codebook_versions: set[str] = field(default_factory=set)
    imports: dict[str, ImportCounts] = field(default_factory=dict)
    deletable: list[str] = field(default_factory=list)
    """Imported projects no writer has chosen to delete yet."""
    project_delete_sent: set[str] = field(default_factory=set)
    projects_deleted: set[str] = field(default_factory=set)
    other_answers: Counter[str] = field(default_factory=Counter)
    """Answers that are neither success nor 5xx, by 'kind status' (reported, not failures)."""
    server_errors: list[str] = field(default_factory=list)
    writer_errors: list[str] = field(default_factory=list)
    """Exceptions that ended a writer other than the server going away."""
    in_flight: Counter[str] = field(default_factory=Counter)

    def add_acknowledged(self, kind: str) -> None:
        with self.lock:
            self.acknowledged[kind] += 1

    def in_flight_now(self) -> list[str]:
        with self.lock:
            return sorted(kind for kind, count in self.in_flight.items() if count > 0)


class ServerGoneError(Exception):
    """The connection failed: the server was killed."""


class Writer:
    """One client's stream of random requests; run it on a thread with :meth:`run`."""

    def __init__(
        self, url: str, ledger: Ledger, number: int, cycle: int, qdpx: bytes, seed: int
    ) -> None:
        self.url = url
        self.ledger = ledger
        self.number = number
        self.cycle = cycle
        self.qdpx = qdpx
        self.rng = random.Random(seed)
        self.mine: list[int] = []  # exemplars this writer may delete
        self.serial = 0
        self.client: httpx.Client | None = None

    def run(self, stop: threading.Event) -> None:
        operations, weights = zip(*self._mix(), strict=True)
        with httpx.Client(base_url=self.url, timeout=60) as self.client:
            for _ in range(100_000):  # bounded; the kill ends it long before
                if stop.is_set():
                    return
                try:
                    self.rng.choices(operations, weights)[0]()
                except ServerGoneError:
                    return
                except Exception as error:  # handed to the run, which reports it; never lost
                    with self.ledger.lock:
                        self.ledger.writer_errors.append(f"writer {self.number}: {error!r}")
                    return

    def _mix(self) -> list[tuple[Callable[[], None], int]]:
        return [
            (self.add_exemplars, 30),
            (self.delete_exemplar, 10),
            (self.decide_ad_hoc, 15),
            (self.decide_on_sentence, 8),
            (self.upload_transcript, 10),
            (self.replace_codebook, 4),
            (self.import_refi, 4),
            (self.delete_imported_project, 2),
            (self.suggest, 17),
            (self.start_batch, 2),
        ]

    # ----- one request -----------------------------------------------------------------------

    def send(self, kind: str, method: str, path: str, **request: Any) -> httpx.Response:
        assert self.client is not None
        with self.ledger.lock:
            self.ledger.in_flight[kind] += 1
        try:
            response = self.client.request(method, path, **request)
        except httpx.TimeoutException as error:  # a kill resets connections: this is a hang
            with self.ledger.lock:
                self.ledger.server_errors.append(f"{kind}: no answer ({error!r})")
            raise ServerGoneError from error
        except httpx.TransportError as error:
            raise ServerGoneError from error
        finally:
            with self.ledger.lock:
                self.ledger.in_flight[kind] -= 1
        if response.is_success:
            self.ledger.add_acknowledged(kind)
        else:
            with self.ledger.lock:
                if response.status_code >= 500:
                    self.ledger.server_errors.append(
                        f"{kind}: {response.status_code} {response.text[:300]}"
                    )
                else:
                    self.ledger.other_answers[f"{kind} {response.status_code}"] += 1
        return response

    def text(self) -> str:
        self.serial += 1
        words = " ".join(self.rng.sample(WORDS, 3))
        return f"c{self.cycle} w{self.number} n{self.serial} {words}"

    def codes(self) -> list[str]:
        return self.rng.sample(CODES, self.rng.randint(1, 2))

    # ----- the writes ------------------------------------------------------------------------

    def add_exemplars(self) -> None:
        texts = tuple(self.text() for _ in range(3))
        with self.ledger.lock:
            self.ledger.add_batches.append(texts)
        rows = [
            {"transcript_id": f"w{self.number}", "text": t, "codes": self.codes()} for t in texts
        ]
        response = self.send(
            "exemplar_add", "POST", f"/v1/projects/{PROJECT}/exemplars", json={"exemplars": rows}
        )
        if response.status_code == 201:
            ids = response.json()["ids"]
            with self.ledger.lock:
                self.ledger.exemplar_texts.update(zip(ids, texts, strict=True))
            self.mine.extend(ids)

    def delete_exemplar(self) -> None:
        if not self.mine:
            return
        victim = self.mine.pop(self.rng.randrange(len(self.mine)))
        with self.ledger.lock:
            self.ledger.delete_sent.add(victim)  # the kill may land between commit and answer
        response = self.send(
            "exemplar_delete", "DELETE", f"/v1/projects/{PROJECT}/exemplars/{victim}"
        )
        if response.status_code == 204:
            with self.ledger.lock:
                self.ledger.deleted.add(victim)

    def decide_ad_hoc(self) -> None:
        """A coder's coding of a new sentence: it becomes an exemplar (one this writer may
        delete later)."""
        made = self._decide({"text": self.text()})
        if made is not None:
            self.mine.append(made)

    def decide_on_sentence(self) -> None:
        """A decision on a stored sentence: it replaces that sentence's earlier exemplar."""
        with self.ledger.lock:
            stored = sorted(self.ledger.transcripts.items())
        if stored:
            transcript_id, sentences = self.rng.choice(stored)
            index = self.rng.randrange(sentences)
            self._decide({"transcript_id": transcript_id, "sentence_index": index})

    def _decide(self, unit: dict[str, Any]) -> int | None:
        """Change the unit's coding; the id of the exemplar made, once acknowledged."""
        body = {"action": "change", "coder": f"coder{self.number}", "codes": self.codes(), **unit}
        response = self.send("decision", "POST", f"/v1/projects/{PROJECT}/decisions", json=body)
        if response.status_code != 201:
            return None
        answer = response.json()
        with self.ledger.lock:
            self.ledger.decisions[answer["id"]] = answer["exemplar_id"]
            self.ledger.exemplar_texts[answer["exemplar_id"]] = answer["text"]
        made: int = answer["exemplar_id"]
        return made

    def upload_transcript(self) -> None:
        self.serial += 1
        transcript_id = f"t-c{self.cycle}-w{self.number}-{self.serial}"
        text = (
            f"Interviewer: What happened in round {self.serial}?\n"
            f"P{self.number}: {self.text()}. We retrain the model weekly.\n"
            "Interviewer: Thanks.\n"
        )
        response = self.send(
            "transcript",
            "POST",
            f"/v1/projects/{PROJECT}/transcripts",
            files={"file": (f"{transcript_id}.txt", text.encode())},
            data={"transcript_id": transcript_id},
        )
        if response.status_code == 201:
            with self.ledger.lock:
                self.ledger.transcripts[transcript_id] = response.json()["sentence_count"]

    def replace_codebook(self) -> None:
        """A new codebook: the same codes (the exemplars' codes must stay) plus a new one."""
        self.serial += 1
        extra = {"id": f"X{self.cycle}w{self.number}n{self.serial}", "name": f"extra {self.serial}"}
        codebook = {**SMALL_CODEBOOK, "codes": [*SMALL_CODEBOOK["codes"], extra]}
        response = self.send(
            "codebook", "PUT", f"/v1/projects/{PROJECT}/codebook", json={"codebook": codebook}
        )
        if response.status_code == 200:
            with self.ledger.lock:
                self.ledger.codebook_versions.add(response.json()["version"])

    def import_refi(self) -> None:
        self.serial += 1
        project_id = f"{REFI_PREFIX}c{self.cycle}-w{self.number}-{self.serial}"
        response = self.send(
            "refi_import",
            "POST",
            "/v1/projects/import",
            files={"file": ("study.qdpx", self.qdpx)},
            data={"project_id": project_id},
        )
        if response.status_code == 201:
            answer = response.json()
            counts = ImportCounts(answer["transcripts"], answer["sentences"], answer["exemplars"])
            with self.ledger.lock:
                self.ledger.imports[project_id] = counts
                self.ledger.deletable.append(project_id)

    def delete_imported_project(self) -> None:
        """Start a batch on an imported project, then delete the project (its files go too)."""
        with self.ledger.lock:
            if not self.ledger.deletable:
                return
            project_id = self.ledger.deletable.pop(self.rng.randrange(len(self.ledger.deletable)))
            self.ledger.project_delete_sent.add(project_id)
        self.send("batch", "POST", f"/v1/projects/{project_id}/batches", json={})
        response = self.send("project_delete", "DELETE", f"/v1/projects/{project_id}")
        if response.status_code == 204:
            with self.ledger.lock:
                self.ledger.projects_deleted.add(project_id)

    # ----- reads that make the coder refit, in the request or in the background -------------

    def suggest(self) -> None:
        body = {"sentences": [self.text()], "k": 10, "method": self.rng.choice(["linear", "knn"])}
        self.send("suggestion", "POST", f"/v1/projects/{PROJECT}/suggestions", json=body)

    def start_batch(self) -> None:
        self.send("batch", "POST", f"/v1/projects/{PROJECT}/batches", json={})
