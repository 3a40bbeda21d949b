"""``intercoder info``: the version, the model and its weights' sha256, the data folder, the
embedding backends and the number of projects; for a bug report, or to find one's data.

Register with ``app.command("info")(info)``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.support import exits_cleanly

if TYPE_CHECKING:
    from service.app.about import Installation


class InfoFormat(enum.StrEnum):
    text = "text"
    json = "json"


@exits_cleanly
def info(
    output_format: Annotated[
        InfoFormat, typer.Option("--format", help="text for people, json for tools.")
    ] = InfoFormat.text,
) -> None:
    """Show the version, the model, where the data lives, the backends and the projects."""
    from service.app.about import describe_installation
    from service.settings import get_settings

    installation = describe_installation(get_settings())
    if output_format is InfoFormat.json:
        typer.echo(json.dumps(dataclasses.asdict(installation), indent=2, default=str))
    else:
        typer.echo(_text(installation))


def _text(about: Installation) -> str:
    model = about.model
    if model.problem is not None:
        weights = f"unusable: {model.problem}"
    elif model.weights_sha256 is None:
        weights = "-"
    elif model.expected_sha256 is None:
        weights = f"{model.weights_sha256} (no expected hash set)"
    else:
        matches = "matches" if model.weights_sha256 == model.expected_sha256 else "DIFFERS from"
        weights = f"{model.weights_sha256} ({matches} the expected hash)"
    backends = ", ".join(
        f"{name} {version}" if version else f"{name} (not installed)"
        for name, version in about.backends.items()
    )
    exists = "" if about.data_dir_exists else " (not created yet)"
    lines = [
        ("intercoder", about.version),
        ("python", about.python),
        ("model", model.name),
        ("model folder", str(model.folder or "-")),
        ("weights sha256", weights),
        ("data dir", f"{about.data_dir}{exists}"),
        ("backends", backends),
        ("projects", f"{about.projects} (intercoder projects list)"),
    ]
    return "\n".join(f"{label + ':':<16} {value}" for label, value in lines)
