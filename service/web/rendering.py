"""Templates of the page: Jinja2 with autoescaping on for every template, so transcript and
codebook text always shows as text; one ``render`` adds what every page needs."""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from service.app.keys import keys_required
from service.app.page_sessions import PageSession
from service.web.security import workspace_of

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("service.web", "templates"),
    autoescape=True,  # every template, whatever its name: nothing may render unescaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)
STATIC_DIR = resources.files("service.web").joinpath("static")


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


_environment.filters["score"] = score


def render(
    request: Request,
    name: str,
    session: PageSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The template with the session's CSRF token, its coder and its pending notices."""
    notices = list(session.notices) if session is not None else []
    if session is not None:
        session.notices.clear()
    return templates.TemplateResponse(
        request,
        name,
        {
            "session": session,
            "csrf": session.csrf_token if session is not None else "",
            "notices": notices,
            "keys_required": keys_required(workspace_of(request).settings),
            **context,
        },
        status_code=status_code,
    )


def back_to(url: str, session: PageSession, notice: str | None = None) -> RedirectResponse:
    """Post/redirect/get: back to a page, with a notice for it."""
    if notice:
        session.notices.append(notice)
    return RedirectResponse(url, status_code=303)
