"""Pieces every command of the ``intercoder`` CLI shares.

Typer 0.29 vendors Click as ``typer._click``; its exceptions are imported from there because
Typer raises those, not the separately installed ``click`` package's.

Two kinds of mistakes end a command with one ``error:`` line on stderr and exit status 2:
intercoder's own input errors (:func:`exits_cleanly`) and a malformed command line, which
Click reports as a usage error (:class:`OneLineErrors`). Neither prints a traceback or Typer's
boxed help, so a script or a person reads the one line that says what to fix.
"""

from __future__ import annotations

import enum
import functools
import re
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar, cast

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from codebook.errors import IntercoderError
from models.encoder import ENCODER_BACKENDS, EncoderBackend

Params = ParamSpec("Params")
Result = TypeVar("Result")

PROGRAM = "intercoder"
USAGE_STATUS = 2
INTERRUPTED_STATUS = 130  # 128 + SIGINT, what shells report for Ctrl-C

# OSErrors about a path the user gave (a file deleted meanwhile, a folder made read-only after
# the checks): the user can fix these, so they get the error line, not a traceback.
_PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def exits_cleanly(command: Callable[Params, Result]) -> Callable[Params, Result]:
    """Print intercoder's own errors as one line and exit 2 instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return command(*args, **kwargs)
        except IntercoderError as error:
            fail(str(error))
        except _PATH_ERRORS as error:
            where = f"{error.filename}: " if error.filename else ""
            fail(f"{where}{error.strerror or error}; check the path and its permissions")

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


def fail(message: str, status: int = USAGE_STATUS) -> NoReturn:
    """End the command with ``error: message`` as one line on stderr."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code=status)


class OneLineErrors(TyperGroup):
    """The root command group: usage mistakes as one ``error:`` line and exit 2.

    Click and Typer print a usage block, or a boxed panel, for an unknown option, a missing
    argument or a bad value. Here the group runs in Click's non-standalone mode and prints the
    message alone, with where to read the usage. ``app()``, ``python -m service.cli.main``
    and Typer's test runner all go through this ``main``.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        run = functools.partial(
            super().main, args, prog_name or PROGRAM, complete_var,
            windows_expand_args=windows_expand_args, **extra,
        )  # fmt: skip
        if not standalone_mode:  # a caller that handles Click's exceptions itself
            return run(standalone_mode=False)
        try:
            outcome = run(standalone_mode=False)
        except NoArgsIsHelpError:  # Typer printed the help when it raised this; nothing more
            sys.exit(USAGE_STATUS)
        except ClickException as error:
            typer.echo(usage_line(error), err=True)
            sys.exit(USAGE_STATUS if isinstance(error, UsageError) else error.exit_code)
        except typer.Abort:  # end of input at a prompt
            typer.echo("error: aborted", err=True)
            sys.exit(INTERRUPTED_STATUS)
        # Non-standalone Click returns the exit status of a typer.Exit (or the command's value).
        sys.exit(outcome if isinstance(outcome, int) else 0)


def usage_line(error: ClickException) -> str:
    """One line: what was wrong, and the help page that shows the right usage."""
    message = " ".join(error.format_message().split()).rstrip(".").replace("Value error, ", "")
    # Click's "... Did you mean 'suggest'?" reads as an aside before the pointer to the help.
    message = re.sub(r"\.? Did you mean (.+)\?$", r" (did you mean \1?)", message)
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    context = getattr(error, "ctx", None)
    where = context.command_path if context is not None else PROGRAM
    return f"error: {message}; see '{where} --help'"
