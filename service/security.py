"""API keys, who may touch which project, and the request-size guard.

Keys are random 32-byte tokens; only their sha256 is stored, so a copy of the database opens
nothing. A key either opens one project or, created without a project, every project (an admin
key, also needed to create projects and read /metrics). Keys are required whenever the service
binds a non-loopback address (transcripts are confidential interviews), and on loopback too when
``require_api_keys`` is set; the service refuses to start where keys are required and none
exists.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebook.errors import AuthError, ConfigurationError, ForbiddenError, PayloadTooLargeError
from service.problems import send_problem
from service.settings import Settings
from service.store import Store
from service.store_keys import KeyRow, find_key, insert_key, key_count
from service.store_projects import require_project

KEY_PREFIX = "ick_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(store: Store, project_id: str | None, label: str = "") -> tuple[str, KeyRow]:
    """A new key for one project (or every project when None): the key, shown once, and its row."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with store.write() as transaction:
        if project_id is not None:
            require_project(transaction.connection, project_id)
        row = insert_key(transaction.connection, hash_key(key), project_id, label)
    return key, row


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def keys_required(settings: Settings) -> bool:
    return settings.require_api_keys or not is_loopback(settings.host)


def check_can_start(settings: Settings, store: Store) -> None:
    """ConfigurationError when keys are required but none exists: nobody could get in, or
    worse, a public address would be open."""
    if not keys_required(settings):
        return
    with store.read() as connection:
        if key_count(connection):
            return
    why = (
        f"binding {settings.host} (not a loopback address)"
        if not is_loopback(settings.host)
        else "require_api_keys is set"
    )
    raise ConfigurationError(
        f"API keys are required ({why}) but the data directory {settings.data_dir} has none; "
        "create one with `intercoder serve --create-key` (add `--project ID` to limit it to one "
        "project), or bind 127.0.0.1"
    )


@dataclass(frozen=True)
class Principal:
    """Who is calling: the project their key opens, or every project (``project_id=None``)."""

    project_id: str | None

    def check_project(self, project_id: str) -> None:
        if self.project_id is not None and self.project_id != project_id:
            raise ForbiddenError(
                f"this API key opens project {self.project_id!r} only, not {project_id!r}; "
                "use a key created for that project"
            )

    def check_admin(self, action: str) -> None:
        if self.project_id is not None:
            raise ForbiddenError(
                f"{action} needs a key for every project (created without --project); this "
                f"key opens project {self.project_id!r} only"
            )


EVERYONE = Principal(project_id=None)


def principal_for(store: Store, settings: Settings, presented: str | None) -> Principal:
    """The caller behind ``presented`` (a key or None); AuthError when keys are required and
    it is missing or unknown."""
    if not keys_required(settings):
        return EVERYONE
    if not presented:
        raise AuthError(
            "this service requires an API key: send it as 'Authorization: Bearer <key>' or "
            "'X-API-Key: <key>' (create one with `intercoder serve --create-key`)"
        )
    with store.read() as connection:
        row = find_key(connection, hash_key(presented))
    if row is None:
        raise AuthError("the API key is not known to this service; check it or create a new one")
    return Principal(project_id=row.project_id)


class BodySizeLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed.

    A declared Content-Length over the limit is answered at once. A streamed body is counted as
    it arrives; once over, reading fails and whatever the app would answer is replaced by 413
    (FastAPI turns an error while reading a body into a 400, which would hide the cause).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await send_problem(scope, send, self._too_large(f"declares {declared} bytes"))
            return
        received = 0
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise self._too_large(f"sent more than {self.limit} bytes")
            return message

        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced:
                replaced = True
                await send_problem(scope, send, self._too_large(f"sent over {self.limit} bytes"))

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
            if not replaced:  # the app gave up on the body without answering: answer for it
                await send_problem(scope, send, self._too_large(f"sent over {self.limit} bytes"))

    def _too_large(self, found: str) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"the request body is limited to {self.limit} bytes and this request {found}; "
            "split it into smaller requests (or raise INTERCODER_MAX_REQUEST_BYTES)"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
