"""A batch run's output folder: coded parts, a journal of what is done, and the summary.

::

    results/
      part-000000.parquet ...   the coded rows, in input order (or .csv parts while running)
      coded.csv                 with --format csv: every part joined, once the run is complete
      _run.json                 what wrote the folder: the coder's fingerprint and the format
      _progress.sqlite          the journal: each work item done, its part and its counts
      _summary.json             the last summary

Resuming relies on one ordering: a part is written to a hidden temporary file, flushed to disk,
renamed into place, and only then is its work recorded, in one transaction, in the journal. A
run killed at any point leaves either a part the journal names (done, skipped next time) or a
part it does not (an orphan, removed at the next start and coded again), never a half part.
Readers (pandas, pyarrow, Ray) skip names starting with "_" or ".", so the folder reads as one
table. One run at a time writes a folder (an advisory lock), and a folder written by another
coder (other exemplars, codebook, model or options) is refused rather than mixed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import pandas as pd

from codebook.errors import InputError
from service.app.batch_rows import as_csv_frame
from service.app.batch_schema import output_table
from service.store.locks import hold_lock

OutputFormat = Literal["parquet", "csv"]
_JOURNAL = """
CREATE TABLE IF NOT EXISTS done (
    key TEXT PRIMARY KEY,
    part TEXT NOT NULL,
    sentences INTEGER NOT NULL,
    transcripts TEXT NOT NULL,
    code_counts TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    no_code INTEGER NOT NULL
)
"""
MERGED_CSV = "coded.csv"


@dataclass(frozen=True)
class DoneTotals:
    """What the journal holds: every item coded so far, by this run and earlier ones."""

    items: int
    sentences: int
    transcripts: int
    code_counts: dict[str, int]
    abstained: int
    skipped: int
    no_code: int


class OutputFolder:
    """The folder a batch run writes; use as a context manager (it holds the folder's lock)."""

    def __init__(self, path: Path, output_format: OutputFormat) -> None:
        self.path = path
        self.output_format = output_format
        self._lock: IO[bytes] | None = None
        self._journal: sqlite3.Connection | None = None

    def __enter__(self) -> OutputFolder:
        check_output_folder(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._lock = hold_lock(self.path / "_lock", "exclusive")
        except BlockingIOError:
            raise InputError(
                f"another intercoder run is writing to {self.path}; wait for it to finish, "
                "or give another --out"
            ) from None
        self._journal = sqlite3.connect(self.path / "_progress.sqlite")
        self._journal.execute("PRAGMA synchronous=FULL")
        self._journal.execute(_JOURNAL)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._journal is not None:
            self._journal.close()
        if self._lock is not None:
            self._lock.close()

    # ----- starting or resuming --------------------------------------------------------------

    def claim(
        self, fingerprint: str, description: dict[str, object], *, replace_other: bool = False
    ) -> None:
        """Start a new run here, or resume one by the same coder; another coder's is refused,
        or with ``replace_other`` discarded."""
        run_file = self.path / "_run.json"
        if run_file.exists() and replace_other:
            recorded = json.loads(run_file.read_text(encoding="utf-8"))
            if recorded.get("fingerprint") != fingerprint:
                self.discard()
        if run_file.exists():
            recorded = json.loads(run_file.read_text(encoding="utf-8"))
            _check_same_engine(self.path, recorded, description)
            if recorded.get("fingerprint") != fingerprint:
                raise InputError(
                    f"{self.path} holds rows coded by another coder ({recorded.get('coder')}); "
                    "resuming would mix two coders' answers: give another --out, or --restart "
                    "to discard it"
                )
            if recorded.get("format") != self.output_format:
                raise InputError(
                    f"{self.path} holds {recorded.get('format')} output, not "
                    f"{self.output_format}: run again with --format {recorded.get('format')}, "
                    "or give another --out"
                )
        else:
            payload = {"fingerprint": fingerprint, "format": self.output_format, **description}
            _write_atomically(run_file, json.dumps(payload, indent=2).encode())
        self._remove_orphans()

    def discard(self) -> None:
        """Forget everything this folder holds (``--restart``)."""
        journal = self._connected()
        with journal:
            journal.execute("DELETE FROM done")
        (self.path / "_run.json").unlink(missing_ok=True)
        (self.path / MERGED_CSV).unlink(missing_ok=True)
        self._remove_orphans()

    def done_keys(self) -> frozenset[str]:
        rows = self._connected().execute("SELECT key FROM done").fetchall()
        return frozenset(str(key) for (key,) in rows)

    # ----- writing ---------------------------------------------------------------------------

    def write_part(self, coded: Sequence[tuple[str, pd.DataFrame]]) -> None:
        """Write work items' coded rows as the next part, then record the items as done."""
        rows = pd.concat([item_rows for _, item_rows in coded], ignore_index=True)
        part = self._next_part_name()
        target = self.path / part
        temporary = self.path / f".{part}.tmp"
        if self.output_format == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(output_table(rows), temporary)
        else:
            as_csv_frame(rows).to_csv(temporary, index=False)
        _flush_to_disk(temporary)
        os.replace(temporary, target)
        _flush_to_disk(self.path)
        self._record(coded, part)

    def finish(self) -> Path:
        """The result: the folder of parts, or for CSV one file joining them in order."""
        if self.output_format == "parquet":
            return self.path
        merged = self.path / MERGED_CSV
        temporary = self.path / f".{MERGED_CSV}.tmp"
        with temporary.open("w", encoding="utf-8", newline="") as out:
            for index, part in enumerate(self.parts()):
                with part.open(encoding="utf-8", newline="") as source:
                    header = source.readline()
                    if index == 0:
                        out.write(header)
                    for line in source:
                        out.write(line)
        _flush_to_disk(temporary)
        os.replace(temporary, merged)
        return merged

    def parts(self) -> list[Path]:
        """The recorded parts in the order they were written (by number: past part 999,999
        the names no longer sort as text)."""
        return [self.path / name for name in sorted(self._part_names(), key=_part_number)]

    def _part_names(self) -> list[str]:
        rows = self._connected().execute("SELECT DISTINCT part FROM done").fetchall()
        return [str(name) for (name,) in rows]

    def totals(self) -> DoneTotals:
        rows = (
            self._connected()
            .execute(
                "SELECT transcripts, code_counts, sentences, abstained, skipped, no_code FROM done"
            )
            .fetchall()
        )
        transcripts: set[str] = set()
        counts: Counter[str] = Counter()
        for names, code_counts, *_ in rows:
            transcripts.update(json.loads(names))
            counts.update(json.loads(code_counts))
        return DoneTotals(
            items=len(rows),
            sentences=sum(int(row[2]) for row in rows),
            transcripts=len(transcripts),
            code_counts=dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
            abstained=sum(int(row[3]) for row in rows),
            skipped=sum(int(row[4]) for row in rows),
            no_code=sum(int(row[5]) for row in rows),
        )

    def write_summary(self, summary: dict[str, object]) -> None:
        text = json.dumps(summary, indent=2, ensure_ascii=False)
        _write_atomically(self.path / "_summary.json", text.encode())

    # ----- internals -------------------------------------------------------------------------

    def _record(self, coded: Sequence[tuple[str, pd.DataFrame]], part: str) -> None:
        journal = self._connected()
        with journal:
            for key, item_rows in coded:
                journal.execute(
                    "INSERT INTO done VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, part, *_item_counts(item_rows)),
                )

    def _next_part_name(self) -> str:
        numbers = [_part_number(name) for name in self._part_names()]
        return f"part-{max(numbers, default=-1) + 1:06d}.{self.output_format}"

    def _remove_orphans(self) -> None:
        """Parts written by a run killed before it recorded them, and its temporary files."""
        known = {part.name for part in self.parts()}
        for path in self.path.iterdir():
            orphan = path.name.startswith("part-") and path.name not in known
            if orphan or (path.name.startswith(".") and path.name.endswith(".tmp")):
                path.unlink()

    def _connected(self) -> sqlite3.Connection:
        if self._journal is None:
            raise RuntimeError("OutputFolder is used as a context manager")
        return self._journal


def _part_number(name: str) -> int:
    return int(name.split("-")[-1].split(".")[0])


def check_output_folder(path: Path) -> None:
    """InputError unless ``path`` is a folder (or can become one) that intercoder may write."""
    if path.exists() and not path.is_dir():
        raise InputError(
            f"--out {path} is a file; batch output is a folder of parts: give a folder name"
        )
    parent = path if path.exists() else _existing_parent(path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write to {parent}: give an --out folder you may write to")
    ours = (path / "_run.json").exists() or (path / "_progress.sqlite").exists()
    if path.is_dir() and not ours and any(path.iterdir()):
        raise InputError(
            f"--out {path} already holds other files; give a new or empty folder so that "
            "nothing of yours is overwritten"
        )


def _check_same_engine(
    path: Path, recorded: dict[str, object], description: dict[str, object]
) -> None:
    """A folder the Ray engine wrote has no journal of its rows: resuming it locally would code
    everything again beside them, so it is refused ("local" when a run file names none)."""
    written_by = recorded.get("engine", "local")
    if written_by != description.get("engine", "local"):
        raise InputError(
            f"{path} was written by the {written_by} engine, whose output cannot be resumed: "
            "give --restart to discard it and code everything again, or another --out"
        )


def _existing_parent(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


def _item_counts(rows: pd.DataFrame) -> tuple[int, str, str, int, int, int]:
    counts = Counter(code for codes in rows["codes"] for code in codes)
    transcripts = sorted(set(rows["transcript_id"].astype(str)))
    return (
        len(rows),
        json.dumps(transcripts),
        json.dumps(dict(counts)),
        int(rows["abstained"].sum()),
        int(rows["skipped"].sum()),
        int(rows["no_code"].sum()),
    )


def _flush_to_disk(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    _flush_to_disk(temporary)
    os.replace(temporary, path)
