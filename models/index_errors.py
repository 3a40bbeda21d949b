"""The two errors the exemplar index raises about index files, beside the project's error tree.

They live in their own module so that ``models.index`` and ``models.index_store`` can both raise
them without importing each other; import them from ``models.index``.
"""

from __future__ import annotations

from codebook.errors import IntercoderError


class IndexMismatchError(IntercoderError):
    """A saved index was built with another embedding model (or dimension) than the caller's.

    Its vectors are not comparable with the caller's embeddings, so the only fix is to rebuild
    the index with the current model.
    """


class IndexFileError(IntercoderError):
    """A saved index file is missing, unreadable, corrupt, or does not match its companion file."""
