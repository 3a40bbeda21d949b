"""The page's front door: sign in and out, the projects the key opens, a new project (with a
shipped, YAML or REFI-QDA codebook, or a whole REFI-QDA project)."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from codebook.errors import InputError, IntercoderError
from codebook.loader import SHIPPED_CODEBOOKS
from service.app.codebooks import shipped_codebook
from service.app.page_projects import codebook_from_file, visible_projects
from service.app.page_sessions import coder_name
from service.app.projects import create_project
from service.refi.formats import ImportOptions
from service.refi.importing import import_refi_project, read_refi_bytes
from service.store.ids import PROJECT_ID_PATTERN
from service.web.rendering import back_to, render
from service.web.security import (
    COOKIE,
    Checked,
    Session,
    check_origin,
    cookie_secure,
    current_session,
    safe_next,
    sessions_of,
    set_coder_cookie,
    set_session_cookie,
    workspace_of,
)

router = APIRouter(prefix="/page", include_in_schema=False)
SIGN_IN_COOKIE = "intercoder_sign_in"


def check_project_id(project_id: str) -> None:
    if not re.fullmatch(PROJECT_ID_PATTERN, project_id):
        raise InputError(
            f"the project id {project_id[:80]!r} is not one intercoder takes: expected lower-case "
            "letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters"
        )


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/page/") -> HTMLResponse:
    return _sign_in_page(request, safe_next(next))


def _sign_in_page(request: Request, next_url: str, error: str | None = None) -> HTMLResponse:
    """The form, with a fresh sign-in token in a field and in a SameSite=Strict cookie: a
    form posted from another site carries no cookie, so it cannot sign a browser in with
    someone else's key (login CSRF)."""
    token = secrets.token_urlsafe(16)
    extra = {} if error is None else {"error": error}
    response = render(
        request,
        "sign_in.html",
        current_session(request),
        status_code=200 if error is None else 401,
        next=next_url,
        sign_in_token=token,
        **extra,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/page/sign-in",
    )
    return response


@router.post("/sign-in")
def sign_in(
    request: Request,
    key: Annotated[str, Form(max_length=200)] = "",
    coder: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/page/",
    sign_in_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The key is the proof of who signs in; the sign-in token, that this form sent it."""
    check_origin(request)
    target = safe_next(next)
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, sign_in_token):
        return _sign_in_page(request, target, "the sign-in form had expired; sign in again")
    workspace = workspace_of(request)
    try:
        session_id, session = sessions_of(request).open(
            workspace.store, workspace.settings, key.strip() or None, coder
        )
    except IntercoderError as error:
        return _sign_in_page(request, target, str(error))
    sessions_of(request).close(request.cookies.get(COOKIE, ""))  # one browser, one session
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session_id)
    set_coder_cookie(request, response, session.coder)
    response.delete_cookie(SIGN_IN_COOKIE, path="/page/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: Checked) -> Response:
    sessions_of(request).close(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/page/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/coder")
def rename_coder(
    request: Request, session: Checked, coder: Annotated[str, Form(max_length=200)]
) -> Response:
    session.coder = coder_name(coder)
    response = back_to("/page/", session, f"decisions are now logged as {session.coder!r}")
    set_coder_cookie(request, response, session.coder)
    return response


@router.get("/")
def projects(request: Request, session: Session) -> HTMLResponse:
    rows = visible_projects(workspace_of(request), session.principal)
    return render(
        request,
        "projects.html",
        session,
        projects=rows,
        shipped=SHIPPED_CODEBOOKS,
        # as an HTML pattern (a regular expression with the v flag, where '-' is escaped)
        project_id_pattern=PROJECT_ID_PATTERN.strip("^$").replace("_-", "_\\-"),
        admin=session.principal.project_id is None,
    )


@router.post("/projects")
def new_project(
    request: Request,
    session: Checked,
    project_id: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)] = "",
    shipped: Annotated[str, Form(max_length=100)] = "",
    codebook_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A project with a shipped codebook, or one from an uploaded YAML or .qdc file."""
    try:
        session.principal.check_admin("creating a project")
        check_project_id(project_id)
        if codebook_file is not None and codebook_file.filename:
            codebook = codebook_from_file(codebook_file.file.read(), codebook_file.filename)
        else:
            codebook = shipped_codebook(shipped)
        create_project(workspace_of(request), project_id, name or codebook.name, codebook)
    except IntercoderError as error:
        return back_to("/page/", session, f"the project was not created: {error}")
    return back_to(f"/page/projects/{project_id}", session, f"project {project_id!r} created")


@router.post("/projects/import")
def import_project(
    request: Request,
    session: Checked,
    file: Annotated[UploadFile, File()],
    project_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A new project from a REFI-QDA .qdpx project (codebook, transcripts, codings)."""
    chosen = project_id or uuid.uuid4().hex[:12]
    try:
        session.principal.check_admin("importing a project")
        check_project_id(chosen)
        refi = read_refi_bytes(file.file.read(), file.filename or "upload.qdpx", ImportOptions())
        imported = import_refi_project(workspace_of(request), refi, chosen)
    except IntercoderError as error:
        return back_to("/page/", session, f"the file was not imported: {error}")
    return back_to(
        f"/page/projects/{imported.project.id}",
        session,
        f"imported {imported.summary.transcripts} transcript(s) and "
        f"{imported.project.exemplar_count} coded sentence(s)",
    )
