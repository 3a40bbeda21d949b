"""The service layer's errors (see the tree in :mod:`codebook.errors`): the store, the HTTP
requests and the settings."""

from __future__ import annotations

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


class BatchTooLargeError(InputError):
    """One request carries more sentences or exemplars than the service handles at once."""


class AuthError(IntercoderError):
    """The service needs an API key and got none, or one it does not know."""


class ForbiddenError(AuthError):
    """A known API key that does not cover this project or this operation."""


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
