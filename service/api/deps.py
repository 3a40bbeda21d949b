"""FastAPI dependencies: the shared state, the caller behind the API key, paging parameters."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from service.app.keys import EVERYONE, Principal, keys_required, principal_for
from service.app.workspace import Workspace
from service.errors import AuthError
from service.store.ids import PROJECT_ID_PATTERN, RESERVED_PROJECT_IDS, TRANSCRIPT_ID_PATTERN

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key (needed when the service binds a non-loopback address).",
)
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


def caller(
    request: Request,
    api_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    """The caller behind the request's credentials (see presented_key for the rule)."""
    state = service_state(request)
    if not keys_required(state.settings):
        return EVERYONE  # loopback without require_api_keys: credentials are not read at all
    authorization = request.headers.get("authorization")
    presented = presented_key(api_key, authorization, bearer)
    return principal_for(state.store, state.settings, presented)


def presented_key(
    api_key: str | None, authorization: str | None, bearer: HTTPAuthorizationCredentials | None
) -> str | None:
    """The one key a request presents. Either header may carry it; a request that sends both
    must send the same key in both, and an Authorization header must be a bearer token: a
    request whose credentials disagree is refused (401), never let in on the better one."""
    if authorization and bearer is None:
        raise AuthError(
            "the Authorization header is not 'Bearer <key>': send the API key as a bearer "
            "token or in X-API-Key, not another scheme"
        )
    token = bearer.credentials if bearer is not None else None
    if api_key and token and not hmac.compare_digest(api_key.encode(), token.encode()):
        raise AuthError(
            "the request carries two different API keys (Authorization and X-API-Key); send "
            "one key, in either header, or the same key in both"
        )
    return api_key or token


def admin_access(action: str) -> Callable[[Principal], Principal]:
    """A dependency: the caller, refused (403) unless their key opens every project. As a
    dependency it runs before the body is read or validated, so a key without the right learns
    nothing about the request it may not make."""

    def admin(principal: Caller) -> Principal:
        principal.check_admin(action)
        return principal

    return admin


def service_state(request: Request) -> Workspace:
    """The workspace the app's lifespan opened."""
    state: Workspace = request.app.state.service
    return state


State = Annotated[Workspace, Depends(service_state)]
Caller = Annotated[Principal, Depends(caller)]


def project_access(
    project_id: Annotated[
        str,
        Path(
            pattern=PROJECT_ID_PATTERN,
            description="The project's id.",
            examples=["study-1"],
        ),
    ],
    principal: Caller,
    request: Request,
) -> str:
    """The path's project id, once the caller's key is known to open it.

    ``/v1/projects/import`` is the import, which takes POST only; the router would read
    ``import`` as a project id for the other methods, so they get the 405 the path deserves.
    """
    if project_id in RESERVED_PROJECT_IDS and request.url.path == f"/v1/projects/{project_id}":
        raise HTTPException(405)
    principal.check_project(project_id)
    return project_id


ProjectId = Annotated[str, Depends(project_access)]
Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
ProjectCursor = Annotated[
    str | None,
    Query(
        pattern=PROJECT_ID_PATTERN,
        description="next_cursor of the previous page (a project id); none for the first",
    ),
]
TranscriptCursor = Annotated[
    str | None,
    Query(
        pattern=TRANSCRIPT_ID_PATTERN,
        description="next_cursor of the previous page (a transcript id); none for the first",
    ),
]
IdCursor = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,18}$",
        description="next_cursor of the previous page (an id); none for the first",
    ),
]
"""Cursors as the schema states them, so that any cursor the schema allows is one the API
could have handed out."""


def id_cursor(cursor: str | None) -> int:
    """A cursor over integer ids (exemplars, decisions): the last id of the previous page."""
    return 0 if cursor is None else int(cursor)


def next_cursor(last: object, count: int, limit: int) -> str | None:
    """The cursor for the page after one of ``count`` items, or None when this was the last."""
    return str(last) if count == limit else None
