"""Real storage faults for the fault cases: a small tmpfs that fills up (and grows again), and
read-only folders and files.

As root (this machine, CI containers) they are real mounts: a tmpfs of a given size, and a
read-only bind mount, since root writes through permission bits. Without root a tmpfs cannot
be mounted (:class:`FaultUnavailableError`, and the case says so) and read-only is ``chmod a-w``,
which then binds the unprivileged server process.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FaultUnavailableError(Exception):
    """This machine cannot make the fault (no root for a mount); the message says why."""


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FaultUnavailableError(f"mount {' '.join(args)} failed: {result.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """``path`` as a tmpfs of ``size`` (e.g. "4m"); unmounted afterwards."""
    if os.geteuid() != 0:
        raise FaultUnavailableError("mounting a tmpfs needs root; run the fault suite as root")
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        _umount(path)


def grow_disk(path: Path, size: str) -> None:
    """Space returns: the tmpfs at ``path`` now holds ``size``, files and open handles kept."""
    _mount("-o", f"remount,size={size}", str(path))


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (a folder or a file) read-only for the server until the block ends."""
    if os.geteuid() == 0:
        _mount("--bind", str(path), str(path))
        try:
            _mount("-o", "remount,ro,bind", str(path))
            yield path
        finally:
            _umount(path)
        return
    mode = path.stat().st_mode
    path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        yield path
    finally:
        path.chmod(mode)
