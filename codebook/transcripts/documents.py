"""Word documents and CSV tables: the two formats people type transcripts into.

A ``.docx`` becomes plain text, one line per paragraph, which is then read like any plain-text
transcript (see :mod:`codebook.transcripts.plaintext`). Tables count too, one line per row: a
row of exactly two filled cells whose first cell looks like a speaker label becomes
``Label: text``, so two-column "speaker | what they said" tables read as turns; a first row
whose cells are column names such as ``Speaker``/``Text`` is skipped; other rows become their
cells joined by spaces.

A CSV has a header row naming a speaker column and a text column; each row is one turn, in
file order, never merged with its neighbours (the rows are the user's own units). The
delimiter is whichever of comma, semicolon, tab and ``|`` occurs most in the header line.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from codebook.transcripts.model import TurnDraft, UnreadableError
from codebook.transcripts.plaintext import is_speaker_label

MAX_DOCX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
"""Refuse a .docx whose members add up to more than this once unzipped (zip bombs)."""

SPEAKER_COLUMNS = ("speaker", "interlocutor", "participant", "name", "speaker_name", "role")
TEXT_COLUMNS = ("text", "utterance", "utterance_text", "content", "transcript", "sentence")
_DELIMITERS = (",", ";", "\t", "|")


def docx_text(data: bytes) -> str:
    """The document's paragraphs and table rows, one per line; UnreadableError if not a .docx."""
    _check_docx_archive(data)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_document_lines(document))
    # python-docx raises whatever its zip, XML and packaging layers raise on a damaged file;
    # all of them mean the same thing to the user.
    except Exception as error:
        raise UnreadableError(
            f"a damaged Word document ({type(error).__name__}: {error})",
            "open it in Word or LibreOffice and save it again as .docx",
        ) from error
    return "\n".join(lines)


def csv_turns(
    text: str, speaker_column: str | None = None, text_column: str | None = None
) -> list[TurnDraft]:
    """One turn per row with text; UnreadableError when a column is missing or the CSV is bad."""
    delimiter = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise UnreadableError(
            f"a malformed CSV ({error})",
            "check the quoting, or save the table again as CSV UTF-8",
        ) from error
    header = [name.strip() for name in rows[0]] if rows else []
    speaker_at = _column(header, speaker_column, SPEAKER_COLUMNS, "speaker")
    text_at = _column(header, text_column, TEXT_COLUMNS, "text")
    turns: list[TurnDraft] = []
    for row in rows[1:]:
        said = _cell(row, text_at).strip()
        if said:
            turns.append(TurnDraft(speaker=" ".join(_cell(row, speaker_at).split()), text=said))
    return turns


def _check_docx_archive(data: bytes) -> None:
    """Refuse non-zip data, zips without a Word body, and zips that unzip too large.

    zipfile stops reading a member at its declared size, so checking the declared sizes here
    bounds what python-docx can inflate later.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise UnreadableError(
            "data that is not a zip archive, so not a Word .docx",
            "save the document as .docx (Word 2007 or later), or give the file's real format",
        ) from error
    if "word/document.xml" not in {member.filename for member in members}:
        raise UnreadableError(
            "a zip archive without word/document.xml, so not a Word .docx",
            "save the document as .docx from Word or LibreOffice",
        )
    total = sum(member.file_size for member in members)
    if total > MAX_DOCX_UNCOMPRESSED_BYTES:
        raise UnreadableError(
            f"a .docx that unzips to {total} bytes, over the limit of "
            f"{MAX_DOCX_UNCOMPRESSED_BYTES} bytes",
            "remove images and embedded files, or save the text as .txt",
        )


def _document_lines(document: Any) -> Iterator[str]:
    from docx.text.paragraph import Paragraph

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
        else:
            yield from _table_lines(block)


def _table_lines(table: Any) -> Iterator[str]:
    for number, row in enumerate(table.rows):
        cells = _distinct_cells(cell.text.strip() for cell in row.cells)
        if number == 0 and _is_header(cells):
            continue
        if len(cells) == 2 and "\n" not in cells[0] and is_speaker_label(cells[0]):
            yield f"{cells[0]}: {cells[1]}"
        elif cells:
            yield " ".join(cells)


def _distinct_cells(texts: Iterator[str]) -> list[str]:
    """Filled cells, a merged cell (repeated by python-docx) counted once."""
    cells: list[str] = []
    for text in texts:
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return cells


def _is_header(cells: Sequence[str]) -> bool:
    known = {*SPEAKER_COLUMNS, *TEXT_COLUMNS}
    return bool(cells) and all(cell.casefold() in known for cell in cells)


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _column(header: list[str], wanted: str | None, usual: Sequence[str], role: str) -> int:
    """Index of the named column, or of the first usual name present (case-insensitive)."""
    folded = [name.casefold() for name in header]
    names = [wanted] if wanted is not None else list(usual)
    for name in names:
        if name.strip().casefold() in folded:
            return folded.index(name.strip().casefold())
    found = ", ".join(repr(name) for name in header) or "none"
    expected = f"a column {wanted!r}" if wanted else f"a {role} column ({'/'.join(usual)})"
    raise UnreadableError(
        f"a CSV without {expected}; its header row has the columns {found}",
        f"rename the {role} column to {usual[0]!r}, or name it with the {role}_column option",
    )


def _cell(row: Sequence[str], index: int) -> str:
    return row[index] if index < len(row) else ""
