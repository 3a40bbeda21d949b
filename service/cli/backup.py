"""``intercoder backup --to FILE`` and ``intercoder restore FILE``: the database, safely.

Thin over ``service.app.backup``. A backup may be taken while ``intercoder serve`` runs; a
restore refuses until every service and command using the data directory has stopped.
Register with ``app.command("backup")(backup)`` and ``app.command("restore")(restore)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.support import exits_cleanly

if TYPE_CHECKING:
    from service.app.backup import DatabaseSummary


@exits_cleanly
def backup(
    to: Annotated[
        Path,
        typer.Option("--to", help="The backup file to write (must not exist yet).", dir_okay=False),
    ],
) -> None:
    """Copy the database to a file: consistent even while the service writes. Project indexes
    are not copied; they are rebuilt from the database when a restored service starts."""
    from service.app.backup import backup_database
    from service.settings import get_settings

    summary = backup_database(get_settings(), to.expanduser())
    typer.echo(f"backed up {_describe(summary)} to {summary.path}")


@exits_cleanly
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by intercoder backup.")],
) -> None:
    """Replace the database with a backup, after checking it; the current database is kept
    beside it. Stop the service first: restore refuses while the database is in use."""
    from service.app.backup import restore_database
    from service.settings import get_settings

    settings = get_settings()
    report = restore_database(settings, file.expanduser())
    typer.echo(f"restored {_describe(report.restored)} into {settings.database_path}")
    if report.previous_kept_as is not None:
        typer.echo(f"the previous database is kept as {report.previous_kept_as}")


def _describe(summary: DatabaseSummary) -> str:
    return (
        f"{summary.projects} project(s), {summary.exemplars} exemplar(s), schema version "
        f"{summary.schema_version}, {summary.size_bytes / 1e6:.1f} MB"
    )
