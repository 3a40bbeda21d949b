"""The service layer's errors (see the tree in :mod:`codebook.errors`): the store, the HTTP
requests and the settings."""

from __future__ import annotations

import errno
import os
import sqlite3

from codebook.errors import InputError, IntercoderError, TranscriptError


class StrictStopError(TranscriptError):
    """``intercoder code --strict``: an input could not be read, so the run stopped (after
    saving what it had coded)."""


class NotFoundError(InputError):
    """A project, exemplar, transcript or codebook version the request names does not exist."""


class ConflictError(InputError):
    """The request clashes with what is stored: an id already taken, a unit already coded."""


class PayloadTooLargeError(InputError):
    """A request body is larger than the service accepts (``max_request_bytes``)."""


class HostNotAllowedError(InputError):
    """A request to a server without keys named a host that is not one of its own (DNS
    rebinding: another site's page reaching a loopback server under the site's name)."""


class BatchTooLargeError(InputError):
    """One request carries more sentences or exemplars than the service handles at once."""


class AuthError(IntercoderError):
    """The service needs an API key and got none, or one it does not know."""


class ForbiddenError(AuthError):
    """A known API key that does not cover this project or this operation."""


class CsrfError(ForbiddenError):
    """A change sent by the review page without its session's CSRF token (or with another):
    refused, since a page of another site may have sent it in the coder's name."""


class ConfigurationError(IntercoderError):
    """Settings that cannot work, such as a non-loopback address with no API key to guard it."""


class MissingExtraError(IntercoderError):
    """An optional part of intercoder (an extra, such as ``intercoder[ray]``) is not installed;
    the message names the ``pip install`` that adds it."""


class OverloadedError(IntercoderError):
    """More requests than the service can queue are waiting: try again after ``retry_after``
    seconds (the ``Retry-After`` header of the 503 answer)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(IntercoderError):
    """The service's database cannot be used: written by a newer intercoder, or unreadable."""


class StorageFullError(StoreError):
    """The data directory's disk (or the process's file size limit) is full: the request
    stored nothing, and the service works again, without a restart, once space is freed."""


class BackupError(InputError):
    """``intercoder backup`` or ``restore`` cannot go ahead: no database to back up, a target
    that exists, a file to restore that is not an intercoder database this version opens, or
    a database still open in a running service. Nothing was written or replaced."""


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def storage_full_error(error: BaseException) -> StorageFullError | None:
    """The StorageFullError an OS or SQLite error means, or None when it means something else.

    SQLite reports ENOSPC as SQLITE_FULL; a file size limit (EFBIG) or a quota (EDQUOT) reach
    intercoder as an OSError from its own file writes (index saves, batch results)."""
    if isinstance(error, sqlite3.Error) and getattr(error, "sqlite_errorcode", None) == (
        sqlite3.SQLITE_FULL
    ):
        reason = "SQLite: database or disk is full"
    elif isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
        reason = os.strerror(error.errno)
    else:
        return None
    return StorageFullError(
        f"the server's storage is full ({reason}); nothing from this request was stored. "
        "Free space on the disk of the server's data directory, then retry: no restart needed"
    )
