"""``intercoder keys``: list and revoke the service's API keys.

Keys are created with ``intercoder serve --create-key``. The service looks every presented key
up in the database, so a revoked key is refused from the next request on, without a restart.
Only a key's id, scope, label and creation time are stored beside its sha256; a lost key
cannot be shown again, only revoked and replaced. Register with
``app.add_typer(keys_app, name="keys")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.support import exits_cleanly
from service.settings import get_settings

keys_app = typer.Typer(help="List and revoke API keys (create them with serve --create-key).")

DataDir = Annotated[
    Path | None, typer.Option(help="Where projects live (default INTERCODER_DATA_DIR).")
]


@keys_app.command("list")
@exits_cleanly
def list_command(data_dir: DataDir = None) -> None:
    """One line per key: id, the project it opens (or every project), label, created."""
    from service.app.keys import all_keys
    from service.store.database import Store

    store = Store(_database(data_dir))
    try:
        keys = all_keys(store)
    finally:
        store.close()
    if not keys:
        typer.echo("no API keys; create one with: intercoder serve --create-key", err=True)
        return
    typer.echo("id\tproject\tlabel\tcreated")
    for key in keys:
        scope = key.project_id if key.project_id is not None else "*"
        typer.echo(f"{key.id}\t{scope}\t{key.label}\t{key.created_at}")


@keys_app.command("revoke")
@exits_cleanly
def revoke_command(
    key_id: Annotated[int, typer.Argument(help="The key's id, from intercoder keys list.")],
    data_dir: DataDir = None,
) -> None:
    """Delete a key: requests presenting it get 401 from then on."""
    from service.app.keys import revoke_key
    from service.store.database import Store

    store = Store(_database(data_dir))
    try:
        revoke_key(store, key_id)
    finally:
        store.close()
    typer.echo(f"revoked API key {key_id}", err=True)


def _database(data_dir: Path | None) -> Path:
    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings.database_path
