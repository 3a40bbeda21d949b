"""``intercoder next``: the project's uncoded sentences that would teach its coder most.

A thin layer over :func:`service.app.next_units.next_units`; the count and the project are
checked before the model loads.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import TYPE_CHECKING, Annotated

import typer

from models.methods import DEFAULT_NEXT, MAX_NEXT
from service.cli.support import exits_cleanly

if TYPE_CHECKING:
    from service.app.next_units import NextUnits


class NextFormat(enum.StrEnum):
    table = "table"
    json = "json"


@exits_cleanly
def next_command(
    project: Annotated[str, typer.Option("--project", help="The project's id.")],
    count: Annotated[
        int,
        typer.Option(
            "-n",
            "--count",
            help=f"How many sentences to rank, 1 to {MAX_NEXT}.",
        ),
    ] = DEFAULT_NEXT,
    seed: Annotated[int, typer.Option(help="Seed of the clustering that spreads the picks.")] = 0,
    output_format: Annotated[
        NextFormat, typer.Option("--format", help="table for people, json for tools.")
    ] = NextFormat.table,
) -> None:
    """Which uncoded sentences to code next: those the coder is least sure of, each a
    different kind of doubt (or, while few are coded, those unlike anything coded)."""
    from service.app.lifecycle import local_workspace
    from service.app.next_units import check_next_count, next_units
    from service.app.projects import require_stored_project

    check_next_count(count)
    require_stored_project(project)  # an unknown project fails now, before the model loads
    with local_workspace() as workspace:
        ranked = next_units(workspace, project, count, seed=seed)
    if output_format is NextFormat.json:
        typer.echo(json.dumps(dataclasses.asdict(ranked), indent=2))
        return
    _print_table(ranked)


def _print_table(ranked: NextUnits) -> None:
    if not ranked.units:
        typer.echo(
            f"nothing left to code in project {ranked.project_id!r}: every stored sentence "
            "is coded or decided (upload more transcripts)",
            err=True,
        )
        return
    basis = "diversity (too few coded yet)" if ranked.by_diversity_alone else "uncertainty"
    typer.echo(
        f"{len(ranked.units)} of {ranked.candidates} uncoded sentences, ranked by {basis}; "
        f"{ranked.exemplar_count} coded"
    )
    typer.echo(f"{'rank':>4} {'transcript':<20} {'sentence':>8} {'score':>5}  why / text")
    for rank, unit in enumerate(ranked.units, start=1):
        typer.echo(
            f"{rank:>4} {unit.transcript_id:<20} {unit.sentence_index:>8} {unit.score:>5.2f}"
            f"  {unit.why}"
        )
        typer.echo(f"{'':>41}{unit.speaker + ': ' if unit.speaker else ''}{unit.text}")
