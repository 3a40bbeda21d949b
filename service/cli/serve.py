"""``intercoder serve``: run the coding service, or create an API key for it.

Binds 127.0.0.1 by default. Binding anything else needs at least one API key in the data
directory (``--create-key``), so that confidential transcripts are never open to a network by
accident. Register with ``app.command("serve")(serve)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.support import exits_cleanly
from service.settings import Settings, get_settings


@exits_cleanly
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to bind (default 127.0.0.1; others require API keys)."),
    ] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port (default 8000).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where projects live (default INTERCODER_DATA_DIR).")
    ] = None,
    require_keys: Annotated[
        bool, typer.Option("--require-keys", help="Demand API keys on loopback too.")
    ] = False,
    create_key: Annotated[
        bool,
        typer.Option(
            "--create-key", help="Create an API key, print it once, and exit (no server)."
        ),
    ] = False,
    project: Annotated[
        str | None,
        typer.Option(help="With --create-key: the one project the key opens (default: all)."),
    ] = None,
    label: Annotated[str, typer.Option(help="With --create-key: a note on whose key it is.")] = "",
) -> None:
    """Start the coding service (HTTP API under /v1, docs at /docs), or create an API key."""
    settings = _settings(host, port, data_dir, require_keys)
    if project is not None and not create_key:
        typer.echo("error: --project only goes with --create-key", err=True)
        raise typer.Exit(code=2)
    if create_key:
        _print_new_key(settings, project, label)
        return
    _run(settings)


def _settings(
    host: str | None, port: int | None, data_dir: Path | None, require_keys: bool
) -> Settings:
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if require_keys:
        overrides["require_api_keys"] = True
    return get_settings().model_copy(update=overrides)


def _print_new_key(settings: Settings, project: str | None, label: str) -> None:
    from service.app.keys import create_key
    from service.store.database import Store

    store = Store(settings.database_path)
    try:
        key, row = create_key(store, project, label)
    finally:
        store.close()
    scope = f"project {project!r}" if project else "every project"
    typer.echo(f"created API key {row.id} for {scope}; it is shown only this once:", err=True)
    typer.echo(key)


def _run(settings: Settings) -> None:
    import uvicorn

    from service.api.main import create_app
    from service.app.lifecycle import check_startup
    from service.metrics import configure_logging

    check_startup(settings)  # refuse in one line before loading anything
    configure_logging(settings.log_level)
    where = f"http://{settings.host}:{settings.port}"
    typer.echo(f"the review page: {where}/page/  the API's docs: {where}/docs", err=True)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # the request-log middleware writes one JSON line per request
        timeout_graceful_shutdown=30,
        server_header=False,
    )


if __name__ == "__main__":  # python -m service.cli.serve, as the test suite starts servers
    typer.run(serve)
