"""The one place where errors become HTTP responses: ``application/problem+json`` (RFC 9457).

Every class of intercoder's error tree (``codebook.errors`` and the index errors) has a row in
:data:`ERROR_STATUS`, and a test fails when a new class lacks one. A 4xx body carries the
error's own message as ``detail`` (it says what was expected, what was found and how to fix it)
and ``problems`` when the error collected several. A 5xx body never carries internals: it gives
a correlation id that finds the full error, traceback included, in the server's log.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codebook.errors import (
    CodebookError,
    CodedDataError,
    DatasetUnavailableError,
    InputError,
    IntercoderError,
    RefiFileError,
    TranscriptError,
    UnknownNameError,
)
from models.errors import (
    CheckpointMismatchError,
    IndexFileError,
    IndexMismatchError,
    ModelIntegrityError,
    NotFittedError,
)
from service.errors import (
    AuthError,
    BackupError,
    BatchTooLargeError,
    ConfigurationError,
    ConflictError,
    CsrfError,
    ForbiddenError,
    HostNotAllowedError,
    MissingExtraError,
    NotFoundError,
    OverloadedError,
    PayloadTooLargeError,
    StorageFullError,
    StoreError,
    StrictStopError,
    storage_full_error,
)

logger = logging.getLogger("intercoder.service")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:intercoder:problem:"

ERROR_STATUS: dict[type[IntercoderError], tuple[int, str]] = {
    IntercoderError: (500, "Internal error"),
    InputError: (422, "Invalid input"),
    CodebookError: (422, "Invalid codebook"),
    TranscriptError: (422, "Unreadable transcript"),
    StrictStopError: (422, "Unreadable input"),
    RefiFileError: (422, "Unreadable REFI-QDA file"),
    CodedDataError: (422, "Invalid coded data"),
    UnknownNameError: (422, "Unknown name"),
    NotFoundError: (404, "Not found"),
    ConflictError: (409, "Conflict"),
    PayloadTooLargeError: (413, "Payload too large"),
    BatchTooLargeError: (422, "Batch too large"),
    HostNotAllowedError: (400, "Host not allowed"),
    AuthError: (401, "API key required"),
    ForbiddenError: (403, "Forbidden"),
    CsrfError: (403, "CSRF token missing or wrong"),
    ConfigurationError: (500, "Server misconfigured"),
    StoreError: (503, "Store unavailable"),
    StorageFullError: (507, "Insufficient storage"),
    BackupError: (422, "Invalid backup"),
    OverloadedError: (503, "Service overloaded"),
    MissingExtraError: (503, "Not installed on this server"),
    DatasetUnavailableError: (503, "Not installed on this server"),
    ModelIntegrityError: (503, "Model unavailable"),
    NotFittedError: (500, "Internal error"),
    IndexMismatchError: (500, "Internal error"),
    IndexFileError: (500, "Internal error"),
    CheckpointMismatchError: (409, "Checkpoint of other inputs"),
}
"""Status and title of every error class; a class's own row, never only its parent's."""

_TOLD_SERVER_ERRORS: tuple[type[IntercoderError], ...] = (StorageFullError, OverloadedError)
"""5xx errors whose message the client is shown: it names no internals and says what to do
(no fault of the server's to log as an error: a full disk, more requests than it queues)."""

_HTTP_TITLES = {404: "Not found", 405: "Method not allowed", 422: "Invalid request"}


class ProblemItem(BaseModel):
    """One thing wrong with the input, and where it is."""

    location: str = Field(examples=["interview.yaml:12", "body.sentences.0"])
    message: str = Field(examples=["code 'A.1': unknown parent 'Z'"])


class ProblemDetails(BaseModel):
    """An error response (RFC 9457 problem details)."""

    type: str = Field(examples=["urn:intercoder:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(
        examples=["there is no project 'study-1'; list the projects with GET /v1/projects"]
    )
    correlation_id: str = Field(description="also in the server's log line for this request")
    problems: list[ProblemItem] = Field(default_factory=list)


def status_for(error: IntercoderError) -> tuple[int, str]:
    """The row of the nearest class in the error's ancestry (exact class first)."""
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return ERROR_STATUS[IntercoderError]


def request_id(scope: Scope) -> str:
    """The request's id (set by the request-log middleware), or a fresh one."""
    state: dict[str, Any] = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
    return str(state["request_id"])


def problem_of(error: IntercoderError, correlation_id: str) -> ProblemDetails:
    status, title = status_for(error)
    if status >= 500 and not isinstance(error, _TOLD_SERVER_ERRORS):
        logger.error(
            "request %s failed: %s: %s", correlation_id, type(error).__name__, error, exc_info=error
        )
        return _server_problem(status, title, correlation_id)
    if status >= 500:
        logger.warning("request %s: %s: %s", correlation_id, type(error).__name__, error)
    problems = getattr(error, "problems", [])
    return ProblemDetails(
        type=_type_uri(title),
        title=title,
        status=status,
        detail=getattr(error, "message", str(error)),
        correlation_id=correlation_id,
        problems=[ProblemItem(location=p.location, message=p.message) for p in problems],
    )


def _server_problem(status: int, title: str, correlation_id: str) -> ProblemDetails:
    return ProblemDetails(
        type=_type_uri(title),
        title=title,
        status=status,
        detail=(
            f"the server could not complete this request; the server's log has the details "
            f"under correlation id {correlation_id}"
        ),
        correlation_id=correlation_id,
    )


def _type_uri(title: str) -> str:
    return _TYPE_PREFIX + title.lower().replace(" ", "-")


def problem_response(
    problem: ProblemDetails, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def error_headers(error: IntercoderError) -> dict[str, str]:
    """Headers an error's answer carries: ``Retry-After`` when it says when to try again."""
    retry_after = getattr(error, "retry_after", None)
    return {} if retry_after is None else {"Retry-After": str(retry_after)}


async def send_problem(scope: Scope, send: Send, error: IntercoderError) -> None:
    """Answer an ASGI request with the problem for ``error`` (for middleware)."""
    await _send(send, problem_of(error, request_id(scope)), error_headers(error))


async def _send(send: Send, problem: ProblemDetails, extra: dict[str, str] | None = None) -> None:
    body = json.dumps(problem.model_dump(mode="json")).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in (extra or {}).items()),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def problem_responses(*statuses: int, inputs: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for a route's error statuses; with ``inputs``, also 422,
    documented as the problem it is instead of FastAPI's default validation-error schema."""
    chosen = sorted({*statuses, 422} if inputs else set(statuses))
    # "model" makes FastAPI register the schema (under application/json); the $ref puts it
    # under the media type these responses really have.
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {
        status: {"model": ProblemDetails, "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}}}
        for status in chosen
    }


SERVER_PROBLEMS = {
    "503": "Service unavailable: the store cannot be used, or (for a change) more requests are "
    "waiting than the service queues; retry after Retry-After seconds",
    "507": "Insufficient storage: the data directory's disk is full; nothing was stored",
}
"""Statuses any operation may answer (507: only those that write), declared once for all."""


def declare_server_problems(app: FastAPI) -> None:
    """Add 503 to every operation of the OpenAPI document and 507 to every change, so that
    the answers a full disk or an overload give are documented, not surprises to a client."""
    generate = app.openapi
    schema = {"$ref": "#/components/schemas/ProblemDetails"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for path_item in document["paths"].values():
            for method, operation in path_item.items():
                statuses = ["503"] if method == "get" else ["503", "507"]
                responses = operation.setdefault("responses", {})
                for status in statuses:
                    responses.setdefault(
                        status,
                        {
                            "description": SERVER_PROBLEMS[status],
                            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
                        },
                    )
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(request: Request) -> str:
    """The methods the OpenAPI document gives the request's path, matched as OpenAPI says:
    concrete paths before templated ones (``/v1/projects/import`` is the import, not a
    project; ``.../exemplars/csv`` the upload, not an exemplar). Starlette's own 405 names
    only the first route that matched the path, and FastAPI has one route per method."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    matching = [
        template
        for template in paths
        if re.fullmatch(_PARAMETER.sub("[^/]+", re.escape(template)), request.url.path)
    ]
    fewest = min((template.count("{") for template in matching), default=0)
    methods = {
        method.upper()
        for template in matching
        if template.count("{") == fewest  # the most concrete templates only
        for method in paths[template]
    }
    return ", ".join(sorted(methods))


_PARAMETER = re.compile(r"\\\{\w+\\\}")
"""A ``{name}`` of a path template, once ``re.escape`` has escaped its braces."""


def install_problem_handlers(app: FastAPI) -> None:
    """Route intercoder errors, request validation errors and HTTP errors to problem+json."""

    async def intercoder_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, IntercoderError)
        problem = problem_of(error, request_id(request.scope))
        return problem_response(problem, error_headers(error))

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        items = [
            ProblemItem(location=".".join(map(str, item["loc"])), message=str(item["msg"]))
            for item in error.errors()
        ]
        problem = ProblemDetails(
            type=_type_uri("Invalid request"),
            title="Invalid request",
            status=422,
            detail=f"the request does not match the API's schema in {len(items)} place(s); see "
            "problems, and the OpenAPI document at /openapi.json",
            correlation_id=request_id(request.scope),
            problems=items,
        )
        return problem_response(problem)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        status, detail = error.status_code, str(error.detail)
        if status == 400:
            # FastAPI's answer to a body it cannot decode; malformed JSON already gets 422 from
            # it, so an undecodable body does too: one status for "fix the request body".
            status = 422
            detail = f"{detail}: expected a UTF-8 JSON (or form) body matching the schema"
        title = _HTTP_TITLES.get(status, "HTTP error")
        problem = ProblemDetails(
            type=_type_uri(title),
            title=title,
            status=status,
            detail=detail,
            correlation_id=request_id(request.scope),
        )
        headers = dict(error.headers or {})
        if status == 405:  # RFC 9110: Allow lists every method of the resource
            headers["Allow"] = allowed_methods(request)
        return problem_response(problem, headers)

    app.add_exception_handler(IntercoderError, intercoder_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)


class CatchAllProblems:
    """Any exception nobody handled becomes a 500 problem with a correlation id, logged with
    its traceback; the client never sees a stack trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            full = storage_full_error(error)  # raised where no use case expected a full disk
            if full is not None and not started:
                await send_problem(scope, send, full)
                return
            correlation_id = request_id(scope)
            logger.error("request %s failed unexpectedly", correlation_id, exc_info=error)
            if started:
                return  # the head is out; all we can do is end the response
            await _send(send, _server_problem(500, "Internal error", correlation_id))
