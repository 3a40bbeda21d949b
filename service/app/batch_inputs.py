"""What a batch run reads: transcript files, folders, globs, and tables of units.

An input is either a transcript (any format ``codebook.transcripts`` reads: it is split into
sentences here) or a table of units already split: a ``.parquet`` file, or a ``.csv`` whose
header has a ``transcript_id`` column (a CSV without one is a transcript, one turn per row).
A table needs ``transcript_id`` and ``text``; ``speaker``, ``sentence``, ``turn``, ``start`` and
``end`` are kept when present.

Work comes out as :class:`WorkItem` s in a fixed order (inputs sorted, tables in fixed-size row
slices), each with a key that names it across runs, so an interrupted run skips what it did.
Items are read lazily: memory holds one item at a time, however large the corpus.

Both engines build units with the functions here: the local one through :func:`iter_work`, the
Ray one (``service.app.batch_ray_tasks``) in its workers through :func:`transcript_item` (one
transcript file) and :func:`row_group_units` (one Parquet row group), so a sentence and its
previous text are the same whichever engine read them.
"""

from __future__ import annotations

import csv
import glob
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd

from codebook.errors import InputError, TranscriptError
from codebook.transcripts import TRANSCRIPT_EXTENSIONS, Segmenter, Sentence, read_transcript

UNIT_COLUMNS = ("transcript_id", "sentence", "turn", "speaker", "start", "end", "text")
READ_ERRORS = (OSError, ValueError, TypeError, InputError)
"""What reading a table may raise that makes it unreadable rather than the run broken (pyarrow's
errors are OSError and ValueError subclasses)."""
TABLE_EXTENSIONS = (".parquet", ".csv")
InputKind = Literal["transcript", "table"]


@dataclass(frozen=True)
class InputSource:
    """One input file; ``name`` is the transcript id a transcript file gets."""

    path: Path
    kind: InputKind
    name: str


@dataclass(frozen=True)
class WorkItem:
    """A transcript or a slice of a table: its units, or why it could not be read."""

    key: str
    source: str
    units: pd.DataFrame
    error: str | None = None


def find_inputs(given: Sequence[str]) -> list[InputSource]:
    """The input files named by paths, folders (searched recursively) and glob patterns, in
    a fixed order; InputError naming what matched nothing, before any work starts."""
    files: dict[Path, None] = {}
    for argument in given:
        # an output folder of an earlier run (maybe --out itself, inside an input folder) holds
        # coded rows, not units to code: reading them back would code them again
        found = [path for path in _expand(argument) if not _in_output_folder(path)]
        if not found:
            raise InputError(
                f"input {argument!r} matches no transcript or table: expected a file, a folder "
                f"or a glob of {', '.join(_readable_extensions())} files; check the path"
            )
        files.update(dict.fromkeys(found))
    ordered = sorted(dict.fromkeys(path.resolve() for path in files))
    return [InputSource(path, _kind(path), name) for path, name in _names(ordered)]


class Work(Protocol):
    """Where a batch run's work items come from: files here, a project's stored transcripts
    in the service (``service.app.batch_jobs``)."""

    def total(self) -> int:
        """How many work items there are in all (done ones included)."""
        ...

    def items(self, done: frozenset[str]) -> Iterator[WorkItem]:
        """The work items not in ``done``, in a fixed order."""
        ...


class FileWork:
    """The work items of input files: each transcript, and each table's slices of rows."""

    def __init__(self, sources: Sequence[InputSource], table_rows: int) -> None:
        self.sources = sources
        self.table_rows = table_rows

    def total(self) -> int:
        return count_work(self.sources, self.table_rows)

    def items(self, done: frozenset[str]) -> Iterator[WorkItem]:
        return iter_work(self.sources, table_rows=self.table_rows, segmenter=Segmenter(), done=done)


def count_work(sources: Sequence[InputSource], table_rows: int) -> int:
    """How many work items the sources give (a table slice or a transcript each)."""
    total = 0
    for source in sources:
        if source.kind == "table":
            rows = _table_row_count(source.path)
            total += max(1, -(-rows // table_rows))
        else:
            total += 1
    return total


def iter_work(
    sources: Sequence[InputSource],
    *,
    table_rows: int,
    segmenter: Segmenter,
    done: frozenset[str] = frozenset(),
) -> Iterator[WorkItem]:
    """Every work item not in ``done``, in order; unreadable ones carry their error."""
    for source in sources:
        if source.kind == "table":
            yield from table_work(source, table_rows, done)
        elif _transcript_key(source) not in done:
            yield transcript_item(source, segmenter)


# ----- transcripts --------------------------------------------------------------------------


def _transcript_key(source: InputSource) -> str:
    return f"transcript:{source.path}"


def transcript_item(source: InputSource, segmenter: Segmenter) -> WorkItem:
    """A transcript file's units with their previous text, or why it cannot be read."""
    key = _transcript_key(source)
    try:
        transcript = read_transcript(source.path, transcript_id=source.name)
        sentences = segmenter.split(transcript)
    except (TranscriptError, OSError, UnicodeError, ValueError) as error:
        return WorkItem(key, str(source.path), empty_units(), error=str(error))
    return WorkItem(key, str(source.path), sentence_units(sentences))


def sentence_units(sentences: Sequence[Sentence]) -> pd.DataFrame:
    """A transcript's sentences as units, each with the sentence before it as previous text."""
    units = pd.DataFrame(
        {
            "transcript_id": [s.transcript_id for s in sentences],
            "sentence": [s.index for s in sentences],
            "turn": [s.turn_index for s in sentences],
            "speaker": [s.speaker for s in sentences],
            "start": pd.array([s.start for s in sentences], dtype="Int64"),
            "end": pd.array([s.end for s in sentences], dtype="Int64"),
            "text": [s.text for s in sentences],
        }
    )
    return with_previous(units, "")


# ----- tables -------------------------------------------------------------------------------


def table_work(
    source: InputSource, table_rows: int, done: frozenset[str] = frozenset()
) -> Iterator[WorkItem]:
    """Fixed slices of a table; each unit's previous text comes from the row before it, even
    across slices (the slice before a skipped one is still read for its last row)."""
    try:
        chunks = _table_chunks(source.path, table_rows)
        for start, units in _units_in_order(source, chunks, before=None):
            key = f"table:{source.path}#rows={start}"
            if key not in done:
                yield WorkItem(key, str(source.path), units)
    except READ_ERRORS as error:
        key = f"table:{source.path}#unreadable"
        if key not in done:
            yield WorkItem(key, str(source.path), empty_units(), error=str(error))


def parquet_row_groups(path: Path) -> list[tuple[int, int]]:
    """Each row group of a Parquet table with its first row's number, from the footer alone
    (the Ray engine reads each group in a worker); InputError when a needed column is missing."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        check_table_columns(parquet.schema_arrow.names, path)
        metadata = parquet.metadata
        sizes = [metadata.row_group(group).num_rows for group in range(metadata.num_row_groups)]
    firsts = [0, *accumulate(sizes)]
    return [(group, firsts[group]) for group, size in enumerate(sizes) if size]


def row_group_units(
    source: InputSource, group: int, first_row: int, table_rows: int
) -> Iterator[pd.DataFrame]:
    """One Parquet row group's units in slices of ``table_rows``, exactly as :func:`table_work`
    makes them: numbered from the row's place in the table, the previous text of the group's
    first unit read from the last row of the group before."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(source.path) as parquet:
        before = _last_unit_before(parquet, source, group)
        batches = parquet.iter_batches(batch_size=table_rows, row_groups=[group])
        chunks = _numbered(first_row, (batch.to_pandas() for batch in batches))
        for _, units in _units_in_order(source, chunks, before):
            yield units


def _last_unit_before(parquet: Any, source: InputSource, group: int) -> pd.DataFrame | None:
    """The table's row just before a row group (None for the first), read from the nearest
    non-empty group before it, and of that only the two columns previous text needs."""
    names = parquet.schema_arrow.names
    wanted = [name for name in names if name.strip().lower() in ("transcript_id", "text")]
    for earlier in range(group - 1, -1, -1):
        rows = parquet.read_row_group(earlier, columns=wanted)
        if rows.num_rows:
            return table_units(rows.slice(rows.num_rows - 1).to_pandas(), source, 0)
    return None


def _units_in_order(
    source: InputSource,
    chunks: Iterable[tuple[int, pd.DataFrame]],
    before: pd.DataFrame | None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Consecutive slices of a table as units, each one's previous text carried across."""
    for start, chunk in chunks:
        units = table_units(chunk, source, start)
        yield start, with_previous(units, before)
        before = units.tail(1)


def _numbered(start: int, chunks: Iterable[pd.DataFrame]) -> Iterator[tuple[int, pd.DataFrame]]:
    for chunk in chunks:
        yield start, chunk
        start += len(chunk)


def _table_chunks(path: Path, table_rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
    start = 0
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:
            batches = parquet.iter_batches(batch_size=table_rows)
            yield from _numbered(0, (batch.to_pandas() for batch in batches))
        return
    reader = pd.read_csv(path, chunksize=table_rows, dtype=str, keep_default_na=False)
    with reader:
        for chunk in reader:
            yield start, chunk
            start += len(chunk)


def check_table_columns(names: Iterable[object], path: Path) -> None:
    """InputError unless a table's columns include transcript_id and text (any case)."""
    given = [str(name) for name in names]
    lowered = {name.strip().lower() for name in given}
    missing = [name for name in ("transcript_id", "text") if name not in lowered]
    if missing:
        raise InputError(
            f"the table {path} has no {' or '.join(missing)} column; a table of units "
            f"needs transcript_id and text (optional: speaker, sentence, turn, start, end); "
            f"its columns are {', '.join(given)}"
        )


def table_units(chunk: pd.DataFrame, source: InputSource, start: int) -> pd.DataFrame:
    """A slice of a table as units; ``start`` is its first row's number in the table (the
    sentence number of a table without a sentence column)."""
    check_table_columns(chunk.columns, source.path)
    columns = {str(name).strip().lower(): name for name in chunk.columns}

    def column(name: str, default: object) -> pd.Series:
        if name in columns:
            return chunk[columns[name]].reset_index(drop=True)
        return pd.Series([default] * len(chunk))

    rows = pd.RangeIndex(start, start + len(chunk))
    return pd.DataFrame(
        {
            "transcript_id": column("transcript_id", "").astype(str),
            "sentence": _integers(column("sentence", None), pd.Series(rows)),
            "turn": _integers(column("turn", None), pd.Series([-1] * len(chunk))),
            "speaker": column("speaker", "").fillna("").astype(str),
            "start": _nullable_integers(column("start", None)),
            "end": _nullable_integers(column("end", None)),
            "text": column("text", "").fillna("").astype(str),
        }
    )


def _integers(values: pd.Series, fallback: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values.replace("", None), errors="coerce")
    return numbers.fillna(fallback.reset_index(drop=True)).round().astype("int64")


def _nullable_integers(values: pd.Series) -> pd.Series:
    # offsets in seconds (captions' timestamps) come as decimals: rounded, not refused
    return pd.to_numeric(values.replace("", None), errors="coerce").round().astype("Int64")


def _table_row_count(path: Path) -> int:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, ValueError):
            return 0
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            return max(0, sum(1 for _ in csv.reader(handle)) - 1)
    except OSError:
        return 0


# ----- shared -------------------------------------------------------------------------------


def with_previous(units: pd.DataFrame, before: pd.DataFrame | str | None) -> pd.DataFrame:
    """Each unit's previous text: the unit before it in the same transcript ("" for the first)."""
    texts = units["text"].tolist()
    ids = units["transcript_id"].tolist()
    first_before = ""
    if isinstance(before, pd.DataFrame) and len(before) and ids:
        tail = before.iloc[0]
        first_before = str(tail["text"]) if tail["transcript_id"] == ids[0] else ""
    previous = [
        (first_before if i == 0 else (texts[i - 1] if ids[i - 1] == ids[i] else ""))
        for i in range(len(texts))
    ]
    return units.assign(previous_text=previous)


def empty_units() -> pd.DataFrame:
    return pd.DataFrame({name: [] for name in (*UNIT_COLUMNS, "previous_text")})


def _in_output_folder(path: Path) -> bool:
    """Inside a folder ``intercoder code`` writes (it has its journal or its run file)."""
    return any(
        (parent / "_progress.sqlite").exists() or (parent / "_run.json").exists()
        for parent in path.resolve().parents
    )


def _expand(argument: str) -> list[Path]:
    path = Path(argument)
    if path.is_dir():
        return [found for found in sorted(path.rglob("*")) if _readable(found)]
    if path.is_file():
        return [path] if _readable(path, named=True) else []
    matches = sorted(glob.glob(argument, recursive=True))
    return [Path(found) for found in matches if _readable(Path(found))]


def _readable(path: Path, *, named: bool = False) -> bool:
    """A file intercoder reads; hidden files (editor backups, ._ files) only when named."""
    if not path.is_file() or (not named and path.name.startswith((".", "_", "~"))):
        return False
    return path.suffix.lower() in _readable_extensions()


def _readable_extensions() -> tuple[str, ...]:
    return tuple(dict.fromkeys((*TRANSCRIPT_EXTENSIONS, *TABLE_EXTENSIONS)))


def _kind(path: Path) -> InputKind:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "table"
    if suffix == ".csv" and _csv_has_transcript_ids(path):
        return "table"
    return "transcript"


def _csv_has_transcript_ids(path: Path) -> bool:
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            header = next(csv.reader(handle), [])
    except OSError:
        return False
    return "transcript_id" in {cell.strip().lower() for cell in header}


def _names(paths: list[Path]) -> Iterator[tuple[Path, str]]:
    """Transcript ids: the file's stem, or its path where two inputs share a stem."""
    counts = Counter(path.stem for path in paths)
    for path in paths:
        yield path, (path.stem if counts[path.stem] == 1 else path.with_suffix("").as_posix())
