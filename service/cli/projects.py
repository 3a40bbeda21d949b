"""``intercoder projects``: list, show and delete the projects of the local store.

None of them loads the model, so each answers at once. Register with
``app.add_typer(projects_app, name="projects")``.
"""

from __future__ import annotations

import enum
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from codebook.errors import InputError
from service.cli.support import exits_cleanly

if TYPE_CHECKING:
    from service.app.catalog import ProjectDetails, ProjectSummary

projects_app = typer.Typer(
    help="List, show and delete the projects of the data folder (see --data-dir).",
    no_args_is_help=True,
)
ProjectId = Annotated[str, typer.Argument(metavar="ID", help="The project's id.")]


class ListFormat(enum.StrEnum):
    table = "table"
    json = "json"


@projects_app.command("list")
@exits_cleanly
def list_command(
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="table for people, json for tools.")
    ] = ListFormat.table,
) -> None:
    """One line per project: id, name, exemplars, transcripts, codebook version, created."""
    from service.app.catalog import list_local_projects
    from service.settings import get_settings

    settings = get_settings()
    summaries = list_local_projects(settings)
    if output_format is ListFormat.json:
        typer.echo(json.dumps([_summary_json(s) for s in summaries], indent=2))
        return
    if not summaries:
        typer.echo(f"no projects in {settings.data_dir}", err=True)
        return
    typer.echo(f"{'id':<20} {'name':<30} exemplars transcripts codebook   created")
    for summary in summaries:
        row = summary.project
        typer.echo(
            f"{row.id:<20} {row.name:<30} {row.exemplar_count:>9} {summary.transcripts:>11} "
            f"{row.codebook_version:<10} {row.created_at}"
        )


@projects_app.command("show")
@exits_cleanly
def show_command(
    project_id: ProjectId,
    output_format: Annotated[
        ListFormat, typer.Option("--format", help="table for people, json for tools.")
    ] = ListFormat.table,
) -> None:
    """A project's codebook, counts, batch runs and last evaluation."""
    from service.app.catalog import local_project_details
    from service.settings import get_settings

    details = local_project_details(get_settings(), project_id)
    if output_format is ListFormat.json:
        typer.echo(json.dumps(_details_json(details), indent=2))
        return
    for label, value in _details_json(details).items():
        typer.echo(f"{label.replace('_', ' ') + ':':<22} {'-' if value is None else value}")


@projects_app.command("delete")
@exits_cleanly
def delete_command(
    project_id: ProjectId,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete without asking (needed in scripts).")
    ] = False,
) -> None:
    """Delete a project with its exemplars, transcripts, decisions, index and batch results.

    Stop a service that runs on the same data folder first, or delete through its API.
    """
    from service.app.catalog import delete_local_project, local_project_details
    from service.settings import get_settings

    settings = get_settings()
    details = local_project_details(settings, project_id)  # an unknown id fails before asking
    if not yes:
        _confirm(details, str(settings.data_dir))
    delete_local_project(settings, project_id)
    typer.echo(f"deleted project {project_id!r}", err=True)


def _confirm(details: ProjectDetails, data_dir: str) -> None:
    """Ask on a terminal; refuse in a pipe, where nobody can answer."""
    what = (
        f"project {details.project.id!r} ({details.project.exemplar_count} exemplars, "
        f"{details.activity.transcripts} transcripts) in {data_dir}"
    )
    if not stdin_is_terminal():
        raise InputError(f"not deleting {what} without --yes (no terminal to ask on)")
    if not typer.confirm(f"Delete {what}? This cannot be undone", default=False):
        typer.echo("nothing deleted", err=True)
        raise typer.Exit(code=1)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _summary_json(summary: ProjectSummary) -> dict[str, object]:
    row = summary.project
    return {
        "id": row.id,
        "name": row.name,
        "exemplars": row.exemplar_count,
        "transcripts": summary.transcripts,
        "codebook_version": row.codebook_version,
        "created_at": row.created_at,
    }


def _details_json(details: ProjectDetails) -> dict[str, object]:
    row, book, activity = details.project, details.codebook, details.activity
    return {
        "id": row.id,
        "name": row.name,
        "created_at": row.created_at,
        "codebook": book.name,
        "codebook_version": book.version,
        "codes": book.code_count,
        "codebook_versions": details.codebook_versions,
        "exemplars": row.exemplar_count,
        "transcripts": activity.transcripts,
        "sentences": activity.sentences,
        "decisions": activity.decisions,
        "batch_runs": activity.batches,
        "last_evaluated_at": activity.last_evaluated_at,
    }
