"""Use case: the batch run of ``batch_coding`` on a Ray cluster (``intercoder code --engine ray``).

The same job, spread with Ray Data (the workers' side is ``service.app.batch_ray_pipeline``):

1. plan, in the driver: each transcript file is one read item; a Parquet table of units is
   one item per row group, planned from its footer alone; a CSV table cannot be split without
   reading it, so the driver reads it in slices and hands the units over as blocks.
2. read, in Ray tasks, with the local engine's own functions (``batch_inputs.transcript_item``
   and ``row_group_units``): the same sentences, and each unit's previous text set as it is
   read, before Ray splits or joins any block.
3. code, in a pool of ``workers`` actors, each building the coder from the recipe once, then
   ``batch_rows.code_units`` on batches of ``chunk_sentences`` units.
4. write Parquet parts (``part-ray-*.parquet``, one schema) into the output folder, then the
   summary: totals counted from the written rows, trust verdicts from the recipe, and the same
   ``_summary.json`` and :class:`BatchSummary` as the local engine.

What it does NOT do that the local engine does:

- Resume. Parts are written as Ray finishes them and no journal records them, so a killed
  run's folder cannot be continued: an output folder holding an earlier run is refused unless
  ``--restart`` discards it (and a local run refuses a Ray-written folder the same way).
- ``--format csv``: Parquet only.
- Keep input order: rows are spread over parts as the workers finish them; sort by
  ``transcript_id, sentence`` (the rows themselves are the local engine's, row for row).
- A progress bar of its own: Ray Data shows its progress bars instead.
- Keep what was coded before a ``--strict`` stop: the run fails at the first unreadable input
  a worker meets, and the parts already written are an incomplete run (``--restart`` it).

On a cluster of several machines, every node needs intercoder with the ``ray`` extra (the same
versions as the driver), and the inputs and ``--out`` at the same paths on every node: a shared
filesystem, since each worker reads its inputs and writes its parts itself.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codebook.errors import InputError
from service.app.batch_coding import (
    BatchRequest,
    BatchSummary,
    described,
    summary_warnings,
)
from service.app.batch_inputs import READ_ERRORS, InputSource, parquet_row_groups, table_work
from service.app.batch_output import DoneTotals, OutputFolder
from service.app.batch_pipeline import Unreadable
from service.app.batch_rows import CoderRecipe
from service.errors import MissingExtraError, StrictStopError


def check_ray_engine(request: BatchRequest) -> Any:
    """Ray itself, once the request is known to suit the Ray engine; call before the model
    loads, so that a missing extra or a refused folder fails at once."""
    ray = _import_ray()
    if request.output_format != "parquet":
        raise InputError(
            f"the Ray engine writes Parquet, not {request.output_format}: drop --format, or "
            "code with --engine local for CSV output"
        )
    if not request.restart and _holds_a_run(request.out):
        raise InputError(
            f"--out {request.out} holds an earlier run, and the Ray engine cannot resume one: "
            "give --restart to discard it and code everything again, or another --out "
            "(--engine local resumes)"
        )
    return ray


def run_batch_ray(
    recipe: CoderRecipe, request: BatchRequest, *, address: str | None, workers: int
) -> BatchSummary:
    """Code every input into ``request.out`` on the Ray cluster at ``address`` ("auto": the
    one this machine belongs to; None: a local Ray started for this run) with ``workers``
    coder actors, and summarise the folder."""
    ray = check_ray_engine(request)
    # Built here too, once: a recipe that cannot fit fails before the cluster is used, and the
    # coder names the model and method the summary reports.
    coder = recipe.build()
    state = coder.state
    started = time.perf_counter()
    with OutputFolder(request.out, "parquet") as folder:
        if request.restart:
            folder.discard()
        # The engine is recorded: a local run refuses to resume a folder the Ray engine wrote.
        engine = {"engine": "ray", "workers": workers}
        folder.claim(recipe.fingerprint(state.model_id), {**described(recipe, coder), **engine})
        with _connected(ray, address):
            items, unreadable = _code(recipe, request, workers)
        totals = totals_of_parts(request.out, items=items - len(unreadable))
        summary = BatchSummary(
            output=request.out,
            totals=totals,
            sentences_this_run=totals.sentences,
            seconds_this_run=time.perf_counter() - started,
            unreadable=tuple(unreadable),
            trust=recipe.trust,
            model_id=state.model_id,
            method=state.method,
            warnings=summary_warnings(state, totals),
        )
        folder.write_summary(summary.as_json())
    return summary


def _import_ray() -> Any:
    """The ray module (Any to mypy: the extra may be missing where mypy runs)."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MissingExtraError(
            f"--engine ray needs Ray Data, which is not installed here ({error}): "
            "pip install 'intercoder[ray]'"
        ) from None
    return ray


@contextmanager
def _connected(ray: Any, address: str | None) -> Iterator[None]:
    """The cluster for this run: a Ray already started in this process (a notebook, a test)
    is used as it is; otherwise connect to ``address``, or start a local Ray, and stop after."""
    if ray.is_initialized():
        yield
        return
    try:
        if address is None:
            ray.init(include_dashboard=False, logging_level="WARNING")
        else:
            ray.init(address=address, logging_level="WARNING")
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise InputError(
            f"could not start or reach {where} ({error}): start a cluster with `ray start "
            "--head` and give --address auto (or ray://HOST:10001), or leave --address out"
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


def _code(recipe: CoderRecipe, request: BatchRequest, workers: int) -> tuple[int, list[Unreadable]]:
    """Run the dataset; the work items it read and the inputs it could not read."""
    from service.app.batch_ray_pipeline import code_and_write, units_dataset, unreadable_log

    plan = _plan(request)
    log = unreadable_log()
    try:
        if plan.reads.items:
            units = units_dataset(
                plan.reads,
                table_rows=request.table_rows,
                strict=request.strict,
                log=log,
                readers=workers,  # enough to keep the coders fed: reading is light
            )
            code_and_write(
                units, recipe, out=request.out, workers=workers,
                batch_rows=request.chunk_sentences,
            )  # fmt: skip
    except Exception:
        found = _found(log)
        if request.strict and found:
            source, reason = next(iter(found.items()))
            raise _strict_stop(source, reason) from None
        raise
    found = {**plan.unreadable, **_found(log)}
    ordered = _in_input_order(request.sources, found)
    return plan.reads.items, [Unreadable(source, found[source]) for source in ordered]


def _found(log: Any) -> dict[str, str]:
    import ray

    found: dict[str, str] = ray.get(log.found.remote())
    return found


@dataclass
class _Plan:
    reads: Any  # batch_ray_pipeline.ReadPlan (imported with Ray)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Inputs the driver found unreadable while planning (footers, CSV tables)."""


def _plan(request: BatchRequest) -> _Plan:
    from service.app.batch_ray_pipeline import ReadPlan

    plan = _Plan(ReadPlan())
    for source in request.sources:
        if source.kind == "transcript":
            plan.reads.transcripts.append(_transcript_read(source))
        elif source.path.suffix.lower() == ".parquet":
            _plan_parquet(plan, source, request.strict)
        else:
            _plan_csv(plan, source, request.table_rows, request.strict)
    return plan


def _transcript_read(source: InputSource) -> dict[str, str]:
    return {"path": str(source.path.absolute()), "source": str(source.path), "name": source.name}


def _plan_parquet(plan: _Plan, source: InputSource, strict: bool) -> None:
    try:
        groups = parquet_row_groups(source.path)
    except READ_ERRORS as error:
        _planned_unreadable(plan, str(source.path), str(error), strict)
        return
    for group, first_row in groups:
        read = {**_transcript_read(source), "group": group, "first_row": first_row}
        plan.reads.row_groups.append(read)


def _plan_csv(plan: _Plan, source: InputSource, table_rows: int, strict: bool) -> None:
    """The CSV table read here, slice by slice, each slice's units put in the object store."""
    import ray

    from service.app.batch_ray_pipeline import unit_table

    for item in table_work(source, table_rows):
        if item.error is not None:
            _planned_unreadable(plan, item.source, item.error, strict)
        elif len(item.units):
            plan.reads.csv_blocks.append(ray.put(unit_table(item.units, item.source)))


def _planned_unreadable(plan: _Plan, source: str, reason: str, strict: bool) -> None:
    if strict:
        raise _strict_stop(source, reason)
    plan.unreadable.setdefault(source, reason)


def _strict_stop(source: str, reason: str) -> StrictStopError:
    return StrictStopError(
        f"{source} could not be read ({reason}); without --strict it would be reported and "
        "skipped; the Ray engine stopped, and parts it already wrote are an incomplete run: "
        "run again with --restart"
    )


def _in_input_order(sources: Sequence[InputSource], found: dict[str, str]) -> list[str]:
    order = {str(source.path): index for index, source in enumerate(sources)}
    return sorted(found, key=lambda name: order.get(name, len(order)))


def totals_of_parts(folder: Path, *, items: int) -> DoneTotals:
    """What the folder's written rows add up to, read back column by column (a part at a
    time, so a corpus of any size is counted in little memory)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    parts = sorted(str(path) for path in folder.glob("part-*.parquet"))
    columns = ["transcript_id", "codes", "abstained", "skipped", "no_code"]
    transcripts: set[str] = set()
    codes: Counter[str] = Counter()
    sums = Counter[str]()
    for batch in ds.dataset(parts, format="parquet").to_batches(columns=columns):
        transcripts.update(pc.unique(batch["transcript_id"]).to_pylist())
        flat = pc.list_flatten(batch["codes"])
        codes.update({str(value): count for value, count in _value_counts(pc, flat)})
        sums["sentences"] += batch.num_rows
        for name in ("abstained", "skipped", "no_code"):
            sums[name] += int(pc.sum(batch[name]).as_py() or 0)
    return DoneTotals(
        items=items,
        sentences=sums["sentences"],
        transcripts=len(transcripts),
        code_counts=dict(sorted(codes.items(), key=lambda item: (-item[1], item[0]))),
        abstained=sums["abstained"],
        skipped=sums["skipped"],
        no_code=sums["no_code"],
    )


def _value_counts(pc: Any, values: Any) -> Iterator[tuple[object, int]]:
    for pair in pc.value_counts(values).to_pylist():
        yield pair["values"], int(pair["counts"])


def _holds_a_run(out: Path) -> bool:
    """Whether ``out`` holds rows or the record of a run (an empty journal is no run)."""
    if not out.is_dir():
        return False
    return (out / "_run.json").exists() or any(out.glob("part-*"))
