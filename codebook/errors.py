"""Every error intercoder raises on purpose, in one tree; each layer owns its branch.

::

    IntercoderError                 base; never raised itself              (codebook.errors)
    +-- InputError                  the user's input is wrong; HTTP 4xx, CLI exit 2
    |   +-- CodebookError           a codebook file or object fails validation (all problems listed)
    |   +-- TranscriptError         a transcript cannot be read or split
    |   |   +-- StrictStopError     `code --strict` met an unreadable input (service.errors)
    |   +-- RefiFileError           a REFI-QDA file (.qdc, .qdpx) is broken, hostile or unsupported
    |   +-- CodedDataError          coded data is malformed or uses codes the codebook lacks
    |   +-- UnknownNameError        a shipped codebook, dataset or method name that does not exist
    |   +-- NotFoundError           a project, exemplar, transcript... is absent (service.errors)
    |   +-- ConflictError           the request clashes with what is stored   (service.errors)
    |   +-- PayloadTooLargeError    a request body over the size limit         (service.errors)
    |   +-- BatchTooLargeError      more sentences or exemplars than allowed   (service.errors)
    |   +-- BackupError             backup or restore cannot go ahead (a bad file, one in use)
    |   |                                                                      (service.errors)
    |   +-- CheckpointMismatchError a training checkpoint written for other inputs
    |                                                                          (models.errors)
    +-- DatasetUnavailableError     a bundled dataset (../shared) or spaCy pipeline is not installed
    +-- ModelIntegrityError         a model folder is missing or fails the sha256 (models.errors)
    +-- NotFittedError              a suggester or coder used before ``fit``    (models.errors)
    +-- IndexMismatchError          a saved exemplar index built with another model (models.errors)
    +-- IndexFileError              a saved index file is missing, corrupt or mismatched
    |                                                                          (models.errors)
    +-- AuthError                   no API key, or one the service does not know (service.errors)
    |   +-- ForbiddenError          a known key that does not cover this project or operation
    +-- ConfigurationError          settings that cannot work (a public bind without API keys)
    |                                                                          (service.errors)
    +-- StoreError                  the service's database cannot be used       (service.errors)
    |   +-- StorageFullError        the data directory's disk is full: HTTP 507 (service.errors)
    +-- OverloadedError             more requests waiting than the service queues: 503 with
    |                               Retry-After                               (service.errors)
    +-- MissingExtraError           an optional extra (intercoder[ray]) is not installed
    |                                                                          (service.errors)

A layer defines only its own errors and never imports upward: ``codebook`` the base and the
input errors, ``models`` the model and index errors, ``service`` the store's, the API's and
the settings'. An error's message says what was expected, what was found and how to fix it, so
the CLI can print it as one line and the service can put it in a problem response unchanged.
Errors that collect several problems (``CodebookError``, ``CodedDataError``) also carry them as
``problems``. The service maps every class to an HTTP status in one table
(``service.api.problems``), and a test fails when a class is missing from it.
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


class DatasetUnavailableError(IntercoderError):
    """A dataset or pipeline exists by name but is not installed or not found on this machine."""
