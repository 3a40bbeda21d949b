"""The coded-units table: one row per coded unit per coder.

Every source of human codes (the generic CSV in :mod:`codebook.coded_csv`, AnnoMI, SwDA) ends up
as one pandas DataFrame whose first columns are :data:`CODED_COLUMNS`; extra columns (such as
SwDA's ``split``) may follow. ``codes`` holds a ``frozenset[str]``; an empty set means the coder
looked at the unit and found that no code applies, which is a judgement agreement statistics
must count. This module builds and checks that table and derives from it (coders, majority
labels); reading and writing it as CSV is apart, in :mod:`codebook.coded_csv`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

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

CODE_SEPARATOR = ";"
DEFAULT_CODER = "coder"

_TEXT_COLUMNS = ("transcript_id", "unit_id", "speaker", "text", "coder", "previous_text", "group")
# Ids that identify units and coders: an empty one would silently merge unrelated rows.
_ID_COLUMNS = ("transcript_id", "unit_id", "coder", "group")
_UNIT_KEY = ["transcript_id", "unit_id"]


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
