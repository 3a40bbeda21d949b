"""API keys and who may touch which project (the HTTP API and ``intercoder keys`` use it).

Keys are random 32-byte tokens; only their sha256 is stored, so a copy of the database opens
nothing; a presented key is hashed, looked up by its digest and the digests compared in
constant time (:func:`digests_match`). A key either opens one project or, created without a
project, every project (an admin key, also needed to create projects and read /metrics).
Keys are required whenever the service binds a non-loopback address (transcripts are
confidential interviews), and on loopback too when ``require_api_keys`` is set; the service
refuses to start where keys are required and none exists.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from service.errors import AuthError, ConfigurationError, ForbiddenError, NotFoundError
from service.settings import Settings
from service.store.database import Store
from service.store.keys import (
    KeyRow,
    delete_key,
    find_key,
    insert_key,
    key_count,
    list_keys,
)
from service.store.projects import require_project

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
    principal = principal_of_hash(store, hash_key(presented))
    if principal is None:
        raise AuthError("the API key is not known to this service; check it or create a new one")
    return principal


def principal_of_hash(store: Store, key_hash: str) -> Principal | None:
    """The caller behind a stored key's hash, or None once that key is revoked (a page
    session keeps the hash, never the key, and asks again on every request)."""
    with store.read() as connection:
        found = find_key(connection, key_hash)
    if found is None or not digests_match(found[1], key_hash):
        return None
    return Principal(project_id=found[0].project_id)


def digests_match(stored: str, presented: str) -> bool:
    """Compare key digests in constant time. The key itself is never compared: the store is
    searched by its sha256, so timing tells nothing about the key, and this last comparison
    takes the same time wherever two digests differ."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))


def all_keys(store: Store) -> list[KeyRow]:
    """Every key's row (never the key itself, which is not stored)."""
    with store.read() as connection:
        return list_keys(connection)


def revoke_key(store: Store, key_id: int) -> None:
    """Delete a key: a running service refuses it from its next request."""
    with store.write() as transaction:
        if not delete_key(transaction.connection, key_id):
            raise NotFoundError(
                f"there is no API key with id {key_id}; `intercoder keys list` shows them"
            )
