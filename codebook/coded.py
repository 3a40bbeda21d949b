"""The coded-units table: one row per coded unit per coder, and its generic CSV form.

Every source of human codes (the generic CSV below, AnnoMI, SwDA) ends up as one pandas
DataFrame whose first columns are :data:`CODED_COLUMNS`; extra columns (such as SwDA's ``split``)
may follow. ``codes`` holds a ``frozenset[str]``; an empty set means the coder looked at the unit
and found that no code applies, which is a judgement agreement statistics must count.

The CSV format (UTF-8, a header row, column names case-insensitive):

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
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from codebook.errors import CodedDataError, Problem
from codebook.model import Codebook

CODED_COLUMNS: tuple[str, ...] = (
    "transcript_id",
    "unit_id",
    "turn_index",
    "speaker",
    "text",
    "codes",
    "coder",
    "previous_text",
    "group",
)
"""The columns every coded-units table starts with, in this order."""

REQUIRED_CSV_COLUMNS: tuple[str, ...] = ("transcript_id", "text", "codes")
CODE_SEPARATOR = ";"
DEFAULT_CODER = "coder"

_TEXT_COLUMNS = ("transcript_id", "unit_id", "speaker", "text", "coder", "previous_text", "group")
# Ids that identify units and coders: an empty one would silently merge unrelated rows.
_ID_COLUMNS = ("transcript_id", "unit_id", "coder", "group")
_UNIT_KEY = ["transcript_id", "unit_id"]

# A str is a path; CSV text goes in an io.StringIO.
CsvFile = str | Path | IO[str] | IO[bytes]


@dataclass(frozen=True, slots=True)
class CodedUnit:
    """One unit as coded by one coder; ``group=None`` means the transcript_id."""

    transcript_id: str
    unit_id: str
    turn_index: int
    text: str
    codes: frozenset[str] = frozenset()
    speaker: str = ""
    coder: str = DEFAULT_CODER
    previous_text: str = ""
    group: str | None = None


def coded_frame(records: Iterable[CodedUnit] | pd.DataFrame) -> pd.DataFrame:
    """The coded-units table built from records, or an existing table checked and normalised.

    A DataFrame must have every column of :data:`CODED_COLUMNS`; its ``codes`` cells may be
    sets, lists or ``;``-separated strings. Raises CodedDataError listing every malformed cell.
    """
    if isinstance(records, pd.DataFrame):
        frame = records.reset_index(drop=True)
    else:
        frame = _frame_from_units(records)
    missing = [column for column in CODED_COLUMNS if column not in frame.columns]
    if missing:
        raise CodedDataError(
            f"the coded-units table lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(CODED_COLUMNS)} (found {', '.join(map(str, frame.columns)) or 'none'})"
        )
    problems: list[Problem] = []
    columns: dict[str, Any] = {name: _text_column(frame, name, problems) for name in _TEXT_COLUMNS}
    columns["turn_index"] = _integer_column(frame, "turn_index", problems)
    columns["codes"] = _codes_column(frame, problems)
    if problems:
        raise CodedDataError(
            f"the coded-units table has {len(problems)} malformed cell(s); correct the data",
            problems,
        )
    normalised = pd.DataFrame({column: columns[column] for column in CODED_COLUMNS})
    for extra in (column for column in frame.columns if column not in CODED_COLUMNS):
        normalised[extra] = frame[extra].to_numpy()
    return normalised


def _frame_from_units(units: Iterable[CodedUnit]) -> pd.DataFrame:
    rows = []
    for unit in units:
        row = asdict(unit)
        row["group"] = unit.transcript_id if unit.group is None else unit.group
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CODED_COLUMNS))


def _row_location(frame: pd.DataFrame, position: int) -> str:
    transcript = frame["transcript_id"].iloc[position]
    unit = frame["unit_id"].iloc[position]
    return f"row {position + 1} (transcript {transcript}, unit {unit})"


def _text_column(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
    values = frame[column]
    missing = values.isna().to_numpy()
    for position in missing.nonzero()[0].tolist():
        problems.append(Problem(_row_location(frame, position), f"{column} is missing"))
    text = values.astype(str)
    if column in _ID_COLUMNS:
        empty = (text == "").to_numpy() & ~missing
        for position in empty.nonzero()[0].tolist():
            problems.append(Problem(_row_location(frame, position), f"{column} is empty"))
    return text


def _integer_column(frame: pd.DataFrame, column: str, problems: list[Problem]) -> pd.Series:
    values = frame[column]
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("int64")
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() | (numbers % 1 != 0)).to_numpy()
    for position in bad.nonzero()[0].tolist():
        found = values.iloc[position]
        problems.append(
            Problem(_row_location(frame, position), f"{column} must be an integer, found {found!r}")
        )
    return numbers.fillna(0).astype("int64")


def _codes_column(frame: pd.DataFrame, problems: list[Problem]) -> list[frozenset[str]]:
    code_sets = []
    for position, value in enumerate(frame["codes"].tolist()):
        code_set = _as_code_set(value)
        if code_set is None:
            problems.append(
                Problem(
                    _row_location(frame, position),
                    f"codes must be a set of code ids or a ';'-separated string, found {value!r}",
                )
            )
            code_set = frozenset()
        code_sets.append(code_set)
    return code_sets


def _as_code_set(value: object) -> frozenset[str] | None:
    if isinstance(value, frozenset) and all(isinstance(code, str) for code in value):
        return value
    if isinstance(value, str):
        return parse_codes(value)
    if isinstance(value, set | list | tuple) and all(isinstance(code, str) for code in value):
        return frozenset(value)
    return None


def parse_codes(cell: str) -> frozenset[str]:
    """The code ids in a ``;``-separated cell; spaces around ids and empty pieces are ignored."""
    return frozenset(piece.strip() for piece in cell.split(CODE_SEPARATOR) if piece.strip())


def format_codes(codes: Iterable[str]) -> str:
    """The ``;``-separated cell for a code set, ids sorted so equal sets give equal cells."""
    return CODE_SEPARATOR.join(sorted(codes))


def check_codes(frame: pd.DataFrame, codebook: Codebook) -> None:
    """Raise CodedDataError listing every row (of a coded_frame table) the codebook disallows."""
    verdicts: dict[frozenset[str], list[str]] = {}
    problems: list[Problem] = []
    for position, codes in enumerate(frame["codes"].tolist()):
        if codes not in verdicts:
            verdicts[codes] = codebook.code_set_problems(codes)
        if verdicts[codes]:
            location = _row_location(frame, position)
            problems += [Problem(location, message) for message in verdicts[codes]]
    if problems:
        rows = len({problem.location for problem in problems})
        raise CodedDataError(
            f"{rows} coded unit(s) use codes that codebook {codebook.name!r} does not allow; "
            "add the codes to the codebook or correct the data",
            problems,
        )


def coders(frame: pd.DataFrame) -> tuple[str, ...]:
    """The distinct coders in the table, sorted."""
    return tuple(sorted(set(frame["coder"].tolist())))


def majority_labels(frame: pd.DataFrame, *, coder: str = "majority") -> pd.DataFrame:
    """One row per unit whose codes are those applied by more than half of its coders.

    A code chosen by exactly half of the coders is left out (a strict majority), so a unit may
    end with no code. The other columns are taken from the unit's first row.
    """
    votes: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    coder_counts: Counter[tuple[str, str]] = Counter()
    for transcript, unit, codes in zip(
        frame["transcript_id"], frame["unit_id"], frame["codes"], strict=True
    ):
        coder_counts[(transcript, unit)] += 1
        votes[(transcript, unit)].update(codes)
    units = frame.drop_duplicates(_UNIT_KEY, keep="first").reset_index(drop=True)
    keys = zip(units["transcript_id"], units["unit_id"], strict=True)
    majority = [
        frozenset(code for code, count in votes[key].items() if 2 * count > coder_counts[key])
        for key in keys
    ]
    units["codes"] = pd.Series(majority, dtype=object)
    units["coder"] = coder
    return units


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
    reader = csv.reader(io.StringIO(text, newline=""))
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
            "some CSV rows do not have one field per header column; quote fields that contain "
            "commas or line breaks",
            problems,
        )
    return header, [row for _, row in body]


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
    key = [*_UNIT_KEY, "coder"]
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
