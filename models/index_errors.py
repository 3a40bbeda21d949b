"""The exemplar index's errors, defined in the project's one error tree (codebook.errors).

Re-exported here so that ``models.index`` and ``models.index_store`` can import them without
importing each other.
"""

from __future__ import annotations

from codebook.errors import IndexFileError, IndexMismatchError

__all__ = ["IndexFileError", "IndexMismatchError"]
