"""The Ray engine's dataset: read inputs into units in Ray tasks, code them in an actor pool,
write Parquet parts. What runs in the workers is here; ``service.app.batch_ray`` drives it.

Imported only once Ray is known to be installed. The workers find these functions and classes
by module path, so every node of a cluster needs intercoder installed, the same version as the
driver's. Units and rows travel as Arrow tables with a fixed schema, so every part has the same
columns and types, whatever a batch happened to hold (a batch with no code at all would
otherwise write its code lists with no type, and the parts would not read as one table).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import ray
import ray.data
from ray.data.datasource import FilenameProvider

from codebook.transcripts import Segmenter
from service.app.batch_inputs import (
    READ_ERRORS,
    InputSource,
    row_group_units,
    transcript_item,
)
from service.app.batch_rows import CoderRecipe, code_units
from service.app.batch_schema import OUTPUT_SCHEMA, UNIT_SCHEMA

PART_PREFIX = "part-ray-"
"""Parts start with "part-", so a local run given --restart on this folder removes them."""


@dataclass
class ReadPlan:
    """What the workers read: transcript files and Parquet row groups (path to open, path as
    given, transcript id or table name, and for a group its number and first row), and the
    CSV tables' units, read by the driver and already in the object store."""

    transcripts: list[dict[str, str]] = field(default_factory=list)
    row_groups: list[dict[str, Any]] = field(default_factory=list)
    csv_blocks: list[Any] = field(default_factory=list)
    """ObjectRefs of units tables."""

    @property
    def items(self) -> int:
        return len(self.transcripts) + len(self.row_groups) + len(self.csv_blocks)


def unreadable_log() -> Any:
    """A new :class:`UnreadableLog` actor (it holds no CPU: it only keeps a few strings)."""
    return ray.remote(num_cpus=0)(UnreadableLog).remote()


class UnreadableLog:
    """Where read tasks report inputs they could not read: tasks return only units, and a task
    retried after a lost worker reports the same input again, hence one reason per source."""

    def __init__(self) -> None:
        self._found: dict[str, str] = {}

    def report(self, source: str, reason: str) -> None:
        self._found.setdefault(source, reason)

    def found(self) -> dict[str, str]:
        return dict(self._found)


class CoderActor:
    """One of the pool: builds the coder once (model and exemplars), then codes batches."""

    def __init__(self, recipe: CoderRecipe) -> None:
        self._options = recipe.options
        self._coder = recipe.build()

    def __call__(self, units: pd.DataFrame) -> pa.Table:
        rows = code_units(self._coder, self._options, units)
        return pa.Table.from_pandas(rows, schema=OUTPUT_SCHEMA, preserve_index=False)


class _PartNames(FilenameProvider):  # type: ignore[misc]
    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"{PART_PREFIX}{write_uuid}-{task_index:06d}.parquet"


def units_dataset(plan: ReadPlan, *, table_rows: int, strict: bool, log: Any, readers: int) -> Any:
    """Every unit of the plan, read by at most ``readers`` Ray tasks at a time with the local
    engine's functions; each unit's previous text is set as it is read, before Ray splits or
    joins any block."""
    parts: list[Any] = []
    reads = {
        "batch_size": 1,
        "batch_format": "pandas",
        "num_cpus": _READ_CPUS,
        # Tasks that ask for no CPU are not limited by CPUs: without a cap, Ray would start a
        # worker process per input at once, each importing intercoder.
        "compute": ray.data.TaskPoolStrategy(size=readers),
    }
    if plan.transcripts:
        items = ray.data.from_items(plan.transcripts, override_num_blocks=len(plan.transcripts))
        parts.append(
            items.map_batches(read_transcripts, fn_kwargs={"strict": strict, "log": log}, **reads)
        )
    if plan.row_groups:
        items = ray.data.from_items(plan.row_groups, override_num_blocks=len(plan.row_groups))
        arguments = {"table_rows": table_rows, "strict": strict, "log": log}
        parts.append(items.map_batches(read_row_groups, fn_kwargs=arguments, **reads))
    if plan.csv_blocks:
        parts.append(ray.data.from_arrow_refs(plan.csv_blocks))
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


# Reading is light next to coding; a whole CPU for it would leave a 2-core machine's coder
# actors (one CPU each) waiting for reads that cannot be scheduled.
_READ_CPUS = 0


def code_and_write(
    units: Any, recipe: CoderRecipe, *, out: Path, workers: int, batch_rows: int
) -> None:
    """Code the units with ``workers`` actors, each coding ``batch_rows`` at a time, and write
    the rows into ``out``."""
    coded = units.map_batches(
        CoderActor,
        fn_constructor_kwargs={"recipe": recipe},
        compute=ray.data.ActorPoolStrategy(size=workers),
        batch_size=batch_rows,
        batch_format="pandas",
        num_cpus=1,
    )
    # Every block has OUTPUT_SCHEMA with pandas' metadata (start and end read back as Int64).
    coded.write_parquet(str(out.absolute()), filename_provider=_PartNames())


def read_transcripts(items: pd.DataFrame, *, strict: bool, log: Any) -> Iterator[pa.Table]:
    """Transcript files read and split into units (one file at a time, whole: its sentences'
    previous texts all lie inside it)."""
    for path, source, name in zip(items["path"], items["source"], items["name"], strict=True):
        item = transcript_item(InputSource(Path(path), "transcript", name), _segmenter())
        if item.error is not None:
            _unreadable(log, source, item.error, strict)
        elif len(item.units):
            yield unit_table(item.units, source)


def read_row_groups(
    items: pd.DataFrame, *, table_rows: int, strict: bool, log: Any
) -> Iterator[pa.Table]:
    """Parquet row groups read into units, in slices of ``table_rows``."""
    columns = (items[name] for name in ("path", "source", "name", "group", "first_row"))
    for path, source, name, group, first_row in zip(*columns, strict=True):
        table = InputSource(Path(path), "table", name)
        try:
            for units in row_group_units(table, int(group), int(first_row), table_rows):
                yield unit_table(units, source)
        except READ_ERRORS as error:
            _unreadable(log, source, str(error), strict)


def unit_table(units: pd.DataFrame, source: str) -> pa.Table:
    """Units with the input they came from, as Arrow with the fixed unit schema."""
    named = units.assign(source=source)
    return pa.Table.from_pandas(named, schema=UNIT_SCHEMA, preserve_index=False)


def _unreadable(log: Any, source: str, reason: str, strict: bool) -> None:
    ray.get(log.report.remote(source, reason))  # recorded before a strict stop fails the run
    if strict:
        raise RuntimeError(f"--strict: {source} could not be read ({reason})")


@functools.cache
def _segmenter() -> Segmenter:
    """One spaCy pipeline per worker process, kept for every task the process runs."""
    return Segmenter()
