"""Every error intercoder raises on purpose, in one tree.

::

    IntercoderError                 base; never raised itself
    +-- InputError                  the user's input is wrong; HTTP 4xx, CLI exit 2
    |   +-- CodebookError           a codebook file or object fails validation (all problems listed)
    |   +-- TranscriptError         a transcript cannot be read or split
    |   +-- RefiFileError           a REFI-QDA file (.qdc, .qdpx) is broken, hostile or unsupported
    |   +-- CodedDataError          coded data is malformed or uses codes the codebook lacks
    |   +-- UnknownNameError        a shipped codebook or dataset name that does not exist
    |   +-- NotFoundError           a project, exemplar, transcript... named by a request is absent
    |   +-- ConflictError           the request clashes with what is stored (an id already taken)
    |   +-- PayloadTooLargeError    a request body over the service's size limit
    |   +-- BatchTooLargeError      more sentences or exemplars in one request than allowed
    +-- AuthError                   the service got no API key, or one it does not know
    |   +-- ForbiddenError          a known API key that does not cover this project or operation
    +-- ConfigurationError          settings that cannot work (a public bind without API keys)
    +-- StoreError                  the service's database cannot be used (e.g. a newer schema)
    +-- DatasetUnavailableError     a bundled dataset (../shared) or spaCy pipeline is not installed
    +-- ModelIntegrityError         a model folder is missing or its weights fail the sha256 check
    +-- NotFittedError              a suggester was asked to suggest before ``fit``
    +-- IndexMismatchError          a saved exemplar index was built with another model
    +-- IndexFileError              a saved exemplar index file is missing, corrupt or mismatched

An error's message says what was expected, what was found and how to fix it, so the CLI can print
it as one line and the service can put it in a problem response unchanged. Errors that collect
several problems (``CodebookError``, ``CodedDataError``) also carry them as ``problems``. The
service maps every class here to an HTTP status in one table (``service.problems``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where it is (file:line, row, field)."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class IntercoderError(Exception):
    """Base of every error intercoder raises on purpose."""


class InputError(IntercoderError):
    """The input is wrong; the caller can fix it. Carries the problems found, if several."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        listed = "; ".join(str(problem) for problem in self.problems[:20])
        more = len(self.problems) - 20
        suffix = f"; and {more} more" if more > 0 else ""
        return f"{self.message}: {listed}{suffix}"


class CodebookError(InputError):
    """A codebook fails validation; ``problems`` lists every problem with its location."""


class TranscriptError(InputError):
    """A transcript cannot be read: wrong format, undecodable bytes, empty, missing columns."""


class RefiFileError(InputError):
    """A REFI-QDA codebook (.qdc) or project (.qdpx) cannot be read, or an option for reading one.

    Broken XML or zip, a hostile file (XML entities, a zip bomb, paths that leave the archive),
    a reference to something the file lacks, an impossible overlap share. The message names the
    file and the part of it that is wrong.
    """


class CodedDataError(InputError):
    """Coded data is malformed or names codes the codebook does not have."""


class UnknownNameError(InputError):
    """A name (shipped codebook, dataset, method) that is not one of the known ones."""


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


class StoreError(IntercoderError):
    """The service's database cannot be used: written by a newer intercoder, or unreadable."""


class DatasetUnavailableError(IntercoderError):
    """A dataset or pipeline exists by name but is not installed or not found on this machine."""


class ModelIntegrityError(IntercoderError):
    """A model folder is missing, incomplete, or its weights do not have the expected sha256."""


class NotFittedError(IntercoderError):
    """A suggester (or coder) was used before ``fit``; the message says what to call."""


class IndexMismatchError(IntercoderError):
    """A saved index was built with another embedding model (or dimension) than the caller's.

    Its vectors are not comparable with the caller's embeddings, so the only fix is to rebuild
    the index with the current model.
    """


class IndexFileError(IntercoderError):
    """A saved index file is missing, unreadable, corrupt, or does not match its companion file."""
