"""The coded-units table's generic CSV form: reading it (codes checked) and writing it.

Apart from the table itself (:mod:`codebook.coded`) because this is where a user's spreadsheet
comes in: decoding, quoting, header names, defaults for absent columns and duplicate rows are
handled and reported here, row by row.

The CSV format (UTF-8, a header row, column names case-insensitive; fields separated by commas,
or by semicolons, tabs or ``|`` as spreadsheets in some locales save them, told apart by the
header):

==================  ========  ==============================================================
column              required  meaning (default when the column is absent)
==================  ========  ==============================================================
``transcript_id``   yes       the conversation or document the unit belongs to
``text``            yes       the unit's text
``codes``           yes       code ids separated by ``;`` (spaces around them ignored); an
                              empty cell means "coded, no code applies"
``unit_id``         no        the unit's id within its transcript (row position, from 0)
``speaker``         no        who speaks ("")
``coder``           no        who coded it (the ``coder`` argument, else "coder")
``turn_index``      no        an integer giving the unit's order (row position, from 0)
``previous_text``   no        the text of the unit before (the previous row's text, "")
``group``           no        the unit for grouped cross-validation (the transcript_id)
==================  ========  ==============================================================

Row positions and previous rows are counted within one transcript and one coder, in file order,
so a file that lists each coder's rows one after the other gets the same defaults for every
coder. Other columns are kept, as text, after the standard ones. Rows in problem messages are
counted from 1 in file order, the header not counted.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from codebook.coded import CODED_COLUMNS, DEFAULT_CODER, check_codes, coded_frame, format_codes
from codebook.errors import CodedDataError, Problem
from codebook.model import Codebook

REQUIRED_CSV_COLUMNS: tuple[str, ...] = ("transcript_id", "text", "codes")
DELIMITERS = ",;\t|"
"""Field separators a coded CSV may use; the header tells which (see :func:`sniff_delimiter`)."""
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}

# A str is a path; CSV text goes in an io.StringIO.
CsvFile = str | Path | IO[str] | IO[bytes]


def read_coded_csv(
    path_or_buffer: CsvFile, codebook: Codebook, *, coder: str | None = None
) -> pd.DataFrame:
    """Read coded units from a CSV (format in the module docstring) and check their codes.

    A ``str`` is a path, not CSV text; pass ``io.StringIO(text)`` for text. Raises
    CodedDataError for undecodable bytes, an empty file, missing columns, malformed cells,
    duplicate (transcript_id, unit_id, coder) rows, and codes the codebook does not allow.
    """
    header, rows = _csv_rows(_read_text(path_or_buffer))
    columns = _columns_by_name(header)
    data = {name: [row[index] for row in rows] for name, index in columns.items()}
    data.setdefault("coder", [coder or DEFAULT_CODER] * len(rows))
    _fill_positional_defaults(data)
    data.setdefault("speaker", [""] * len(rows))
    data.setdefault("group", list(data["transcript_id"]))
    ordered = [*CODED_COLUMNS, *(name for name in data if name not in CODED_COLUMNS)]
    frame = coded_frame(pd.DataFrame({name: data[name] for name in ordered}))
    _check_duplicates(frame)
    check_codes(frame, codebook)
    return frame


def _read_text(source: CsvFile) -> str:
    content: str | bytes
    if isinstance(source, str | Path):
        label, content = str(source), Path(source).read_bytes()
    else:
        label, content = "the CSV input", source.read()
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise CodedDataError(
            f"{label} is not UTF-8 text: byte {content[error.start]:#04x} at offset {error.start} "
            f"(line {line}) cannot be decoded; save the file as UTF-8 (CSV UTF-8 in spreadsheet "
            "programs)"
        ) from None


def _csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    if not text.strip():
        raise CodedDataError(
            "the CSV is empty; expected a header row naming at least "
            f"{', '.join(REQUIRED_CSV_COLUMNS)}, then one row per coded unit"
        )
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Blank lines come back as []; they separate nothing in this format, so skip them.
        lines = [(reader.line_num, row) for row in reader if row]
    except csv.Error as error:
        raise CodedDataError(
            f"the CSV cannot be parsed at line {reader.line_num}: {error}; check its quoting"
        ) from None
    (_, header), body = lines[0], lines[1:]
    problems = [
        Problem(f"row {number} (line {line})", f"has {len(row)} fields, the header {len(header)}")
        for number, (line, row) in enumerate(body, start=1)
        if len(row) != len(header)
    ]
    if problems:
        raise CodedDataError(
            "some CSV rows do not have one field per header column (fields separated by "
            f"{_DELIMITER_NAMES[delimiter]}); quote fields that contain that separator or line "
            "breaks",
            problems,
        )
    return header, [row for _, row in body]


def sniff_delimiter(text: str) -> str:
    """The separator whose header names the required columns, else the one the header has
    most of (so the missing-columns message shows the columns as the file has them)."""
    header = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    for delimiter in DELIMITERS:
        names = {cell.strip().lower() for cell in next(csv.reader([header], delimiter=delimiter))}
        if names.issuperset(REQUIRED_CSV_COLUMNS):
            return delimiter
    return max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","


def _columns_by_name(header: Sequence[str]) -> dict[str, int]:
    """Column index by name: standard names lower-cased, other names kept as written."""
    columns: dict[str, int] = {}
    duplicates: list[str] = []
    for index, raw in enumerate(header):
        name = raw.strip().lower() if raw.strip().lower() in CODED_COLUMNS else raw.strip()
        if name in columns:
            duplicates.append(name)
        columns[name] = index
    missing = [name for name in REQUIRED_CSV_COLUMNS if name not in columns]
    faults = [f"lacks column(s) {', '.join(missing)}"] if missing else []
    faults += [f"repeats column(s) {', '.join(duplicates)}"] if duplicates else []
    if faults:
        raise CodedDataError(
            f"the CSV header {'; '.join(faults)} (found: {', '.join(header)}); it needs "
            f"{', '.join(REQUIRED_CSV_COLUMNS)} once each, optionally "
            f"{', '.join(c for c in CODED_COLUMNS if c not in REQUIRED_CSV_COLUMNS)}"
        )
    return columns


def _fill_positional_defaults(data: dict[str, list[Any]]) -> None:
    """unit_id, turn_index and previous_text from row order within (transcript, coder)."""
    positions: Counter[tuple[str, str]] = Counter()
    last_text: dict[tuple[str, str], str] = {}
    row_positions, previous = [], []
    for transcript, row_coder, text in zip(
        data["transcript_id"], data["coder"], data["text"], strict=True
    ):
        key = (transcript, row_coder)
        row_positions.append(positions[key])
        positions[key] += 1
        previous.append(last_text.get(key, ""))
        last_text[key] = text
    data.setdefault("unit_id", [str(position) for position in row_positions])
    data.setdefault("turn_index", row_positions)
    data.setdefault("previous_text", previous)


def _check_duplicates(frame: pd.DataFrame) -> None:
    key = ["transcript_id", "unit_id", "coder"]
    duplicated = frame[frame.duplicated(key, keep=False)]
    if duplicated.empty:
        return
    problems = []
    for (transcript, unit, row_coder), rows in duplicated.groupby(key, sort=False):
        numbers = ", ".join(str(position + 1) for position in rows.index)
        problems.append(
            Problem(
                f"rows {numbers}",
                f"transcript {transcript}, unit {unit} is coded {len(rows)} times by {row_coder}",
            )
        )
    raise CodedDataError(
        "each coder may code a unit once; give the rows distinct unit_id values, or distinct "
        "coder values if several people coded the unit",
        problems,
    )


def write_coded_csv(frame: pd.DataFrame, path_or_buffer: CsvFile) -> None:
    """Write the table in the CSV format :func:`read_coded_csv` reads back unchanged.

    Codes are sorted and joined by ``;``. Extra columns are written too and come back as text.
    Lines end in CRLF (RFC 4180), which makes the writer quote texts holding a lone CR.
    """
    table = coded_frame(frame)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    codes_at = table.columns.get_loc("codes")
    for row in table.itertuples(index=False, name=None):
        # A missing extra cell would be written as "nan" and read back as that text.
        cells = [_blank_if_nan(value) for value in row]
        cells[codes_at] = format_codes(row[codes_at])
        writer.writerow(cells)
    text = buffer.getvalue()
    if isinstance(path_or_buffer, str | Path):
        Path(path_or_buffer).write_bytes(text.encode("utf-8"))
    elif isinstance(path_or_buffer, io.TextIOBase):
        path_or_buffer.write(text)
    else:
        binary: IO[bytes] = path_or_buffer  # type: ignore[assignment]
        binary.write(text.encode("utf-8"))


def _blank_if_nan(value: object) -> object:
    return "" if isinstance(value, float) and math.isnan(value) else value
