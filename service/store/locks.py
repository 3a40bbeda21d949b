"""Advisory file locks that say who uses a file, portable to Windows.

POSIX (Linux, macOS): ``flock``, shared or exclusive, released when the file is closed or the
process ends, even by kill -9.

Windows has no shared lock (``msvcrt.locking`` locks bytes exclusively), so there an exclusive
lock is one locked byte and a *shared* lock is no lock at all: every holder of the shared lock
would otherwise shut out the others. What that costs: ``intercoder restore`` cannot see a
running service through the lock on Windows; it relies on Windows refusing to replace or delete
a database file another process has open, and reports that refusal as "stop it first".
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Literal

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

LockKind = Literal["shared", "exclusive"]
SHARED_LOCKS_ENFORCED = sys.platform != "win32"
"""False on Windows, where a shared lock is not taken (see the module's docstring)."""


def hold_lock(path: Path, kind: LockKind) -> IO[bytes]:
    """An open file holding a lock of ``kind`` on ``path`` without waiting; closing it (or
    the process ending) releases the lock.

    Raises BlockingIOError when another holder's lock conflicts."""
    handle = path.open("a+b")
    try:
        _lock(handle, kind)
    except BaseException:
        handle.close()
        raise
    return handle


def _lock(handle: IO[bytes], kind: LockKind) -> None:
    if sys.platform == "win32":
        if kind == "exclusive":
            handle.seek(0)
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            except PermissionError as error:  # what msvcrt raises for a byte locked elsewhere
                raise BlockingIOError(str(error)) from error
    else:
        operation = fcntl.LOCK_EX if kind == "exclusive" else fcntl.LOCK_SH
        fcntl.flock(handle.fileno(), operation | fcntl.LOCK_NB)
