"""FastAPI dependencies: the shared state, the caller behind the API key, paging parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from codebook.errors import InputError
from service.app.keys import Principal, principal_for
from service.app.workspace import Workspace
from service.store.ids import PROJECT_ID_PATTERN

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
    state = service_state(request)
    presented = api_key or (bearer.credentials if bearer is not None else None)
    return principal_for(state.store, state.settings, presented)


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
) -> str:
    """The path's project id, once the caller's key is known to open it."""
    principal.check_project(project_id)
    return project_id


ProjectId = Annotated[str, Depends(project_access)]
Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Cursor = Annotated[
    str | None,
    Query(max_length=200, description="next_cursor of the previous page; none for the first"),
]


def id_cursor(cursor: str | None) -> int:
    """A cursor over integer ids (exemplars, decisions): the last id of the previous page."""
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise InputError(
            f"cursor {cursor!r} is not one this API handed out; pass the next_cursor of the "
            "previous page, or none for the first page"
        )
    return int(cursor)


def next_cursor(last: object, count: int, limit: int) -> str | None:
    """The cursor for the page after one of ``count`` items, or None when this was the last."""
    return str(last) if count == limit else None
