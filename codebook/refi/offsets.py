"""Selection offsets as a REFI-QDA file counts them, and as Python indexes a ``str``.

The REFI-QDA standard counts Unicode code points of the plain text, from 0, end exclusive, which
is exactly how Python indexes a ``str``. NVivo for Windows instead counts UTF-16 code units, so a
character outside the Basic Multilingual Plane (most emoji) counts 2 there. Line breaks count as
they stand in the source text in both modes: a CRLF is two code points and two UTF-16 units, a
lone LF one. The byte-order mark that may open a source file is not part of the text and is not
counted.

A UTF-16 offset can fall between the two units of a surrogate pair, which no ``str`` index
matches; some programs write such offsets. Reading snaps them outward to the whole character
(:meth:`OffsetCounter.to_index_snapped`), so the selection keeps the character it touched.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import accumulate

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class OffsetCounter:
    """Converts offsets between a file's counting (code points or UTF-16) and ``str`` indexes."""

    def __init__(self, text: str, *, utf16: bool) -> None:
        self.text = text
        self._units: list[int] | None = None
        if utf16 and _ASTRAL.search(text):
            widths = (2 if ord(char) > 0xFFFF else 1 for char in text)
            self._units = [0, *accumulate(widths)]

    @property
    def length(self) -> int:
        """The text's length as the file counts it."""
        return len(self.text) if self._units is None else self._units[-1]

    def to_index(self, offset: int) -> int | None:
        """The ``str`` index of a file offset; None when outside the text or inside a character."""
        if not 0 <= offset <= self.length:
            return None
        if self._units is None:
            return offset
        index = bisect_left(self._units, offset)
        return index if self._units[index] == offset else None

    def to_index_snapped(self, offset: int, *, is_end: bool) -> tuple[int, bool] | None:
        """The ``str`` index of a file offset, and whether it was snapped: an offset inside a
        character moves to the character's start (a selection's start) or its end (a
        selection's end), both one unit away. None when outside the text."""
        if not 0 <= offset <= self.length:
            return None
        if self._units is None:
            return offset, False
        index = bisect_left(self._units, offset)
        if self._units[index] == offset:
            return index, False
        return (index if is_end else index - 1), True

    def to_offset(self, index: int) -> int:
        """The file offset of a ``str`` index (0 <= index <= len(text))."""
        return index if self._units is None else self._units[index]
