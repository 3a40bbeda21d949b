"""The page's session cookie, its CSRF check and the security headers of every response.

- The cookie holds a random session id only (``service.app.page_sessions``): HttpOnly,
  SameSite=Strict, and Secure when the request came over TLS.
- A change (POST) whose browser sends ``Origin`` must come from this server (the Host it
  named, which :mod:`service.api.hosts` checks on a keyless server).
- Every change (POST) carries the session's CSRF token, as the ``X-CSRF-Token`` header (htmx
  sends it from the body's ``hx-headers``) or the form field ``csrf_token``; a missing or wrong
  token is refused with 403 before anything is done.
- The Content-Security-Policy allows scripts and styles from this server only: no inline
  script, no ``eval`` (htmx is configured without either). Only ``/docs`` and ``/redoc``,
  whose HTML FastAPI writes with an inline script, get a policy that allows inline code.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.app.keys import keys_required
from service.app.page_sessions import PageSession, PageSessions
from service.app.workspace import Workspace
from service.errors import AuthError, CsrfError
from service.store.ids import PROJECT_ID_PATTERN

COOKIE = "intercoder_session"
CODER_COOKIE = "intercoder_coder"
"""The coder's name, no secret: SameSite=Lax, so that a session opened after a link from
another site (which carries no Strict session cookie) logs decisions under the same name."""
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
DOCS_PATHS = ("/docs", "/redoc")
STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SignInRequired(Exception):  # noqa: N818 (control flow of the page, not an error)
    """A page was asked for without a session: sign in (or, on a server without keys, get a
    session at once), then come back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def workspace_of(request: Request) -> Workspace:
    state: Workspace = request.app.state.service
    return state


def sessions_of(request: Request) -> PageSessions:
    sessions: PageSessions = request.app.state.page_sessions
    return sessions


def current_session(request: Request) -> PageSession | None:
    return sessions_of(request).find(workspace_of(request).store, request.cookies.get(COOKIE))


def page_session(request: Request) -> PageSession:
    """The signed-in session of a page request; SignInRequired for a GET without one, and
    AuthError (401) for a change without one."""
    session = current_session(request)
    if session is not None:
        return session
    if request.method == "GET":
        raise SignInRequired(
            str(request.url.path) + (f"?{request.url.query}" * bool(request.url.query))
        )
    raise AuthError("this page's session has ended; sign in again")


def check_origin(request: Request) -> None:
    """A change whose browser names its origin must come from this server's pages (CsrfError
    otherwise); a request without Origin is left to the CSRF token."""
    origin = request.headers.get("origin")
    if (
        origin is not None
        and urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
    ):
        raise CsrfError(
            f"this change came from a page of another site ({origin[:100]!r}), not from this "
            "server's; open the page from this server and try again"
        )


async def checked_session(request: Request) -> PageSession:
    """The session of a change from this server's page, once its CSRF token matches
    (CsrfError otherwise)."""
    check_origin(request)
    session = page_session(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, session.csrf_token):
        raise CsrfError(
            "this change came without the page's CSRF token (or with another session's); "
            "reload the page and try again"
        )
    return session


Session = Annotated[PageSession, Depends(page_session)]
Checked = Annotated[PageSession, Depends(checked_session)]
ProjectPath = Annotated[str, Path(pattern=PROJECT_ID_PATTERN)]


def _opened(project_id: ProjectPath, session: Session) -> PageSession:
    """The session, once its key is known to open this project (ForbiddenError: 403)."""
    session.principal.check_project(project_id)
    return session


def _opened_for_change(project_id: ProjectPath, session: Checked) -> PageSession:
    session.principal.check_project(project_id)
    return session


Opened = Annotated[PageSession, Depends(_opened)]
OpenedForChange = Annotated[PageSession, Depends(_opened_for_change)]


def cookie_secure(request: Request) -> bool:
    """Secure cookies over TLS (``Settings.cookie_secure``: or always, behind a TLS proxy)."""
    chosen = workspace_of(request).settings.cookie_secure
    return chosen == "always" or (chosen == "auto" and request.url.scheme == "https")


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )


def set_coder_cookie(request: Request, response: Response, coder: str) -> None:
    response.set_cookie(
        CODER_COOKIE,
        quote(coder),
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/page/",
    )


def safe_next(next_url: str | None) -> str:
    """Where to go after signing in: a path of this page only (never another site)."""
    if next_url and next_url.startswith("/page/") and not next_url.startswith("//"):
        return next_url
    return "/page/"


async def sign_in_required(request: Request, error: Exception) -> Response:
    """Without keys (a loopback server), a session at once; else the sign-in form."""
    assert isinstance(error, SignInRequired)
    target = safe_next(error.next_url)
    workspace = workspace_of(request)
    if keys_required(workspace.settings):
        return RedirectResponse(f"/page/sign-in?next={quote(target)}", status_code=303)
    coder = unquote(request.cookies.get(CODER_COOKIE, ""))
    session_id, _ = sessions_of(request).open(workspace.store, workspace.settings, None, coder)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session_id)
    return response


class SecurityHeaders:
    """Adds the CSP and the other protective headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else STRICT_POLICY
        # pages hold confidential transcripts: never kept in a cache (their static files may be)
        private = scope["path"].startswith("/page/") and not scope["path"].startswith(
            "/page/static/"
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    # no referrer to other sites; same-origin (not no-referrer) so that a
                    # browser's POST carries its real Origin, which check_origin compares
                    (b"referrer-policy", b"same-origin"),
                ]
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
