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


class CsrfError(ForbiddenError):
    """A change sent by the review page without its session's CSRF token (or with another):
    refused, since a page of another site may have sent it in the coder's name."""


class ConfigurationError(IntercoderError):
    """Settings that cannot work, such as a non-loopback address with no API key to guard it."""


class MissingExtraError(IntercoderError):
    """An optional part of intercoder (an extra, such as ``intercoder[ray]``) is not installed;
    the message names the ``pip install`` that adds it."""


class StoreError(IntercoderError):
    """The service's database cannot be used: written by a newer intercoder, or unreadable."""
