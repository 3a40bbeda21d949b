"""Signed-in coders of the review page: a server-side session table, opened with an API key.

The browser holds only a random session id (in an HttpOnly cookie); the table keeps its sha256,
the caller it stands for, the coder's name, the CSRF token every change must carry, and the
steps ``u`` can undo. The key itself is never kept: only its hash, checked against the store on
every request, so revoking the key ends its sessions at once. Sessions live in this process
(a restart signs everyone out) and end after ``IDLE_SECONDS`` without a request, or
``LIFETIME_SECONDS`` after they opened whatever their use. The table holds ``MAX_SESSIONS`` at
most (the least recently used goes first): on a server without keys every browser without a
cookie gets a session, so their number must not grow without bound.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from service.app.keys import Principal, hash_key, keys_required, principal_for
from service.app.keys import principal_of_hash as key_principal
from service.errors import AuthError
from service.settings import Settings
from service.store.database import Store

IDLE_SECONDS = 12 * 3600
LIFETIME_SECONDS = 7 * 24 * 3600
MAX_SESSIONS = 1000
MAX_UNDO = 50
MAX_CODER_NAME = 80


@dataclass(frozen=True)
class UndoStep:
    """How to take one decision back: the sentence (of which project: a session may hold
    steps of several), and the coding it had before (None: no human coding, so the exemplar
    the decision made is removed)."""

    project_id: str
    transcript_id: str
    sentence_index: int
    previous_codes: tuple[str, ...] | None
    made_exemplar: int | None


@dataclass
class PageSession:
    principal: Principal
    key_hash: str | None
    coder: str
    csrf_token: str
    opened: float
    last_seen: float
    undo: list[UndoStep] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """Messages for the next page shown (what an upload did, or why it was refused)."""

    def remember(self, step: UndoStep) -> None:
        self.undo.append(step)
        del self.undo[:-MAX_UNDO]

    def last_step(self, project_id: str, transcript_id: str) -> UndoStep | None:
        """This session's latest step on the transcript of this project, taken off the list."""
        for step in reversed(self.undo):
            if (step.project_id, step.transcript_id) == (project_id, transcript_id):
                self.undo.remove(step)
                return step
        return None


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def coder_name(name: str | None) -> str:
    """The name decisions are logged under: given, trimmed and shortened, or 'coder'."""
    cleaned = " ".join((name or "").split())[:MAX_CODER_NAME]
    return cleaned or "coder"


@dataclass(frozen=True)
class SessionLimits:
    idle_seconds: float = IDLE_SECONDS
    lifetime_seconds: float = LIFETIME_SECONDS
    max_sessions: int = MAX_SESSIONS


class PageSessions:
    """The table of open sessions (thread-safe: requests run on a thread pool)."""

    def __init__(
        self,
        limits: SessionLimits = SessionLimits(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: dict[str, PageSession] = {}
        self._lock = threading.Lock()
        self._limits = limits
        self._clock = clock

    def open(
        self, store: Store, settings: Settings, key: str | None, coder: str | None
    ) -> tuple[str, PageSession]:
        """A new session for the key's caller (AuthError for a missing or unknown key where
        keys are required; none needed on a loopback server without them)."""
        principal = principal_for(store, settings, key)
        key_hash = hash_key(key) if key and keys_required(settings) else None
        session_id = secrets.token_urlsafe(32)
        session = PageSession(
            principal=principal,
            key_hash=key_hash,
            coder=coder_name(coder),
            csrf_token=secrets.token_urlsafe(32),
            opened=self._clock(),
            last_seen=self._clock(),
        )
        with self._lock:
            self._forget_ended()
            while len(self._sessions) >= self._limits.max_sessions:
                least_used = min(self._sessions, key=lambda d: self._sessions[d].last_seen)
                del self._sessions[least_used]
            self._sessions[_digest(session_id)] = session
        return session_id, session

    def find(self, store: Store, session_id: str | None) -> PageSession | None:
        """The live session behind the cookie, or None (unknown, idle too long, key revoked)."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(_digest(session_id))
        if session is None or self._ended(session, self._clock()):
            return None
        if session.key_hash is not None and key_principal(store, session.key_hash) is None:
            self.close(session_id)
            return None
        session.last_seen = self._clock()
        return session

    def close(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(_digest(session_id), None)

    def _ended(self, session: PageSession, now: float) -> bool:
        return (
            now - session.last_seen > self._limits.idle_seconds
            or now - session.opened > self._limits.lifetime_seconds
        )

    def _forget_ended(self) -> None:
        now = self._clock()
        for digest in [d for d, s in self._sessions.items() if self._ended(s, now)]:
            del self._sessions[digest]


def require_session(session: PageSession | None) -> PageSession:
    if session is None:
        raise AuthError("sign in with your API key first (the page's sign-in form)")
    return session
