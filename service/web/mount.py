"""Puts the review page, its static files and the offline ``/docs`` and ``/redoc`` into the
service's FastAPI app (same process, same port, same workspace as the HTTP API)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from service.app.page_sessions import PageSessions
from service.web import routes_home, routes_project, routes_review
from service.web.rendering import STATIC_DIR
from service.web.security import SecurityHeaders, SignInRequired, sign_in_required

STATIC_URL = "/page/static"


def install_page(app: FastAPI) -> None:
    """Mount the page; the app must be created with ``docs_url=None, redoc_url=None`` (the
    docs here load their scripts from this server, never from a CDN)."""
    app.state.page_sessions = PageSessions()
    for module in (routes_home, routes_project, routes_review):
        app.include_router(module.router)
    app.mount(STATIC_URL, StaticFiles(directory=str(STATIC_DIR)), name="page-static")
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_middleware(SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/page/", status_code=303)

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=f"{app.title} - API",
            swagger_js_url=f"{STATIC_URL}/vendor/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/vendor/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon.svg",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=str(app.openapi_url),
            title=f"{app.title} - API",
            redoc_js_url=f"{STATIC_URL}/vendor/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC_URL}/favicon.svg",
            with_google_fonts=False,
        )
