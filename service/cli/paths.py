"""Checks of the paths a command was given, run before any long work starts.

A typo in a path should cost a second, not a model load or a whole evaluation: every command
checks its input files and output places first and fails with one line that names the option,
what it found and what to do. Each check raises InputError (the CLI prints it, exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

from codebook.errors import InputError


def input_file(path: Path, option: str, expected: str) -> Path:
    """``path`` is an existing, readable file; ``expected`` says what it should hold."""
    if not path.exists():
        raise InputError(f"{option} {path} does not exist; expected {expected}; check the path")
    if path.is_dir():
        raise InputError(f"{option} {path} is a folder, not a file; expected {expected}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{option} {path} cannot be read; check its permissions")
    return path


def input_folder(path: Path, option: str, expected: str) -> Path:
    """``path`` is an existing folder."""
    if not path.exists():
        raise InputError(f"{option} {path} does not exist; expected {expected}; check the path")
    if not path.is_dir():
        raise InputError(f"{option} {path} is a file, not a folder; expected {expected}")
    return path


def output_folder(path: Path, option: str) -> Path:
    """A folder to write into: an existing writable one, or one that can be created."""
    if path.exists() and not path.is_dir():
        raise InputError(
            f"{option} {path} is a file; give a folder (it is created when missing), "
            "or another name"
        )
    _check_creatable(path, option)
    return path


def output_file(path: Path, option: str, *, force: bool = False) -> Path:
    """A file to write: not a folder, not an existing file unless ``force``; its folder is
    created when missing, so it must be writable or creatable."""
    if path.is_dir():
        raise InputError(f"{option} {path} is a folder; give a file name inside it")
    if path.exists() and not force:
        raise InputError(
            f"{option} {path} already exists; choose another name, or add --force to overwrite it"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option} {path} cannot be written; check its permissions")
    _check_creatable(path.parent, option)
    return path


def _check_creatable(folder: Path, option: str) -> None:
    """``folder`` exists and is writable, or its nearest existing parent folder is."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"{option} {folder}: {existing} is a file, so no folder can be made inside it; "
            "choose another place"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"{option} {folder}: cannot write in {existing} (permission denied); choose a "
            "place you can write to"
        )


def coded_data(data: str, option: str = "--data") -> str:
    """``--data``: a dataset name as it is, else an existing coded CSV or .qdpx file."""
    from eval.inputs import NAMED_DATA

    expected = f"a coded CSV, a REFI-QDA project (.qdpx) or one of: {', '.join(NAMED_DATA)}"
    if data in NAMED_DATA:
        return data
    if not Path(data).exists():  # a mistyped path or a mistyped dataset name
        raise InputError(
            f"{option} {data!r} is neither a file nor a known dataset; give {expected}"
        )
    input_file(Path(data), option, expected)
    return data
