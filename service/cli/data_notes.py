"""The data warnings of a coder (``models.data_warnings``) as lines on stderr.

The cold start is a ``note:`` (it is what the user asked for, said plainly); thin codes and a
dominant code are ``warning:`` lines, since they are reasons to doubt the suggestions.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer

from models.data_warnings import DataWarning


def echo_data_warnings(warnings: Iterable[DataWarning]) -> None:
    for warning in warnings:
        prefix = "note" if warning.kind == "cold_start" else "warning"
        typer.echo(f"{prefix}: {warning.message}", err=True)
