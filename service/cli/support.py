"""Pieces every command of the ``intercoder`` CLI shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from codebook.errors import IntercoderError

Params = ParamSpec("Params")
Result = TypeVar("Result")


def exits_cleanly(command: Callable[Params, Result]) -> Callable[Params, Result]:
    """Print intercoder's own errors as one line and exit 2 instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return command(*args, **kwargs)
        except IntercoderError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper
