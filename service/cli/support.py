"""Pieces every command of the ``intercoder`` CLI shares."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar, cast

import typer

from codebook.errors import IntercoderError
from models.encoder import ENCODER_BACKENDS, EncoderBackend

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


Backend = enum.StrEnum("Backend", {name: name for name in ENCODER_BACKENDS})  # type: ignore[misc]

BackendOption = Annotated[
    Backend | None,
    typer.Option(
        "--backend",
        help="How the encoder runs: torch (sentence-transformers), onnx (same model on ONNX "
        "Runtime, exported once) or onnx-int8 (faster, slightly different vectors); default: "
        "INTERCODER_ENCODER_BACKEND, else onnx. See README, Encoder backends.",
        show_default=False,
    ),
]
"""The ``--backend`` option of every command that embeds; pass its value to
:func:`backend_choice`."""


def backend_choice(backend: Backend | None) -> EncoderBackend | None:
    """The chosen backend for ``build_encoder``, None to keep the configured one."""
    # Backend's values are ENCODER_BACKENDS, so the cast only tells mypy what typer checked.
    return None if backend is None else cast(EncoderBackend, backend.value)
