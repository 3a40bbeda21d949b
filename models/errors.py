"""The models layer's errors (see the tree in :mod:`codebook.errors`): model weights, fitting,
and the exemplar index."""

from __future__ import annotations

from codebook.errors import InputError, IntercoderError


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


class CheckpointMismatchError(InputError):
    """A training checkpoint was written for other inputs (data, codebook or settings) than
    the run that meets it, so continuing from it would train a different model."""
