"""Options of ``intercoder`` itself, before the command: ``intercoder --data-dir PATH CMD``.

Register with ``app.callback()(global_options)``. The callback runs before every command and
passes the folder on through ``INTERCODER_DATA_DIR``, the variable the settings read, so every
command (and anything it starts, such as Ray workers or a test server) sees the same folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

DATA_DIR_HELP = (
    "Where projects, the database and the embedding cache live (also INTERCODER_DATA_DIR). "
    "Default: ./intercoder-data if the current folder has one, else the per-user data folder "
    "(see intercoder info)."
)


def global_options(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help=DATA_DIR_HELP, file_okay=False, show_default=False),
    ] = None,
) -> None:
    """Code qualitative interview transcripts alongside human coders: suggestions from the
    sentences your team already coded, with the evidence behind them."""
    from service.settings import get_settings

    if data_dir is not None:
        os.environ["INTERCODER_DATA_DIR"] = str(data_dir.expanduser())
    get_settings.cache_clear()  # settings built before (in tests: another run) are stale
