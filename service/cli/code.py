"""``intercoder code``: code many transcripts in one run, resumable, into Parquet or CSV."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codebook.errors import InputError
from codebook.loader import SHIPPED_CODEBOOKS
from models.methods import COLD_START_METHOD, DEFAULT_EVIDENCE, DEFAULT_METHOD, DEFAULT_TOP
from service.cli.data_notes import echo_data_warnings
from service.cli.paths import input_file, output_file
from service.cli.suggest import MethodChoice, speaker_names
from service.cli.support import BackendOption, backend_choice, exits_cleanly, fail

if TYPE_CHECKING:
    from models.encoder import EncoderBackend
    from models.methods import SuggestOptions
    from service.app.batch_coding import BatchRequest, BatchSummary
    from service.app.batch_rows import CoderRecipe


class OutputChoice(enum.StrEnum):
    parquet = "parquet"
    csv = "csv"


class EngineChoice(enum.StrEnum):
    local = "local"
    ray = "ray"


@exits_cleanly
def code(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Transcript files, folders or globs (.txt, .vtt, .srt, .docx, .csv), or tables "
            "of units (.parquet, or .csv with transcript_id and text columns)."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the coded rows (created; resumable).")
    ],
    project: Annotated[
        str | None, typer.Option(help="Code with this project of the local store.")
    ] = None,
    exemplars: Annotated[
        Path | None,
        typer.Option(help="Without --project: coded units (CSV) to learn from, with --codebook."),
    ] = None,
    codebook: Annotated[
        str | None,
        typer.Option(
            help=f"Without --project: a codebook .yaml or one of {', '.join(SHIPPED_CODEBOOKS)}."
        ),
    ] = None,
    method: Annotated[MethodChoice | None, typer.Option(help="The head (default linear).")] = None,
    output_format: Annotated[
        OutputChoice, typer.Option("--format", help="parquet (a folder of parts) or csv.")
    ] = OutputChoice.parquet,
    refi: Annotated[
        Path | None,
        typer.Option(
            help="Also write a REFI-QDA .qdpx with the machine as a coder (replaced if it exists)."
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, max=50, help="Codes ranked per sentence.")
    ] = DEFAULT_TOP,
    abstain_below: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Abstain below this confidence.")
    ] = 0.0,
    speakers: Annotated[
        list[str] | None, typer.Option("--speakers", help="Code only these speakers.")
    ] = None,
    skip_speakers: Annotated[
        list[str] | None, typer.Option("--skip-speakers", help="Skip these speakers.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at an unreadable transcript.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard what --out holds and start over.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    chunk_sentences: Annotated[
        int, typer.Option(min=1, help="Sentences coded and saved at a time.")
    ] = 2048,
    engine: Annotated[
        EngineChoice, typer.Option(help="local (this machine) or ray (a Ray cluster).")
    ] = EngineChoice.local,
    address: Annotated[
        str | None, typer.Option(help="With --engine ray: the cluster (default: local).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="With --engine ray: coder actors.")] = 2,
    backend: BackendOption = None,
) -> None:
    """Code every sentence of many transcripts with one coder, loaded once.

    Killed or interrupted, the same command continues where it stopped. Unreadable
    transcripts are reported and skipped (or stop the run with --strict).
    """
    from service.app.batch_coding import BatchRequest
    from service.app.batch_inputs import find_inputs
    from service.app.batch_output import check_output_folder

    if (project is None) == (codebook is None):
        raise InputError(
            "code needs either --project (a project of the local store) or --codebook "
            "(with --exemplars for coded units, or alone for the cold start), not both or neither"
        )
    if project is not None and exemplars is not None:
        raise InputError("--exemplars goes with --codebook; a project brings its own exemplars")
    if engine is EngineChoice.local and address is not None:
        raise InputError("--address names a Ray cluster: add --engine ray")
    if refi is not None and refi.suffix.lower() != ".qdpx":
        raise InputError(f"--refi {refi} should end in .qdpx (a REFI-QDA project)")
    if refi is not None:  # made from --out each run, so an earlier one is replaced
        output_file(refi, "--refi", force=True)
    if exemplars is not None:
        input_file(exemplars, "--exemplars", "a coded-units CSV (transcript_id, text, codes)")
    request = BatchRequest(
        sources=find_inputs(inputs),
        out=out,
        output_format=output_format.value,
        chunk_sentences=chunk_sentences,
        strict=strict,
        restart=restart,
    )
    check_output_folder(out)
    if engine is EngineChoice.ray:
        from service.app.batch_ray import check_ray_engine

        check_ray_engine(request)  # no Ray, or a folder it cannot use: fail before the model loads
    chosen = method.value if method is not None else None
    options = _options(top, abstain_below, speakers, skip_speakers)
    if project is not None:
        recipe = _project_recipe(project, chosen, options, backend_choice(backend))
    else:
        assert codebook is not None
        recipe = _recipe_from_files(codebook, exemplars, chosen, options, backend_choice(backend))
    summary = _run(recipe, request, quiet, engine, address, workers)
    _print_summary(summary)
    if refi is not None:
        from service.app.batch_refi import write_batch_refi

        written = write_batch_refi(
            summary.output, request.sources, recipe.codebook, summary.model_id, recipe.method, refi
        )
        typer.echo(f"wrote {refi} ({written} machine codings)")


def _options(
    top: int, abstain_below: float, speakers: list[str] | None, skip: list[str] | None
) -> SuggestOptions:
    from models.methods import SuggestOptions

    return SuggestOptions(
        top=top,
        evidence=DEFAULT_EVIDENCE,
        abstain_below=abstain_below,
        speakers=speaker_names(speakers),
        skip_speakers=speaker_names(skip),
    )


def _recipe_from_files(
    codebook: str,
    exemplars: Path | None,
    method: str | None,
    options: SuggestOptions,
    backend: EncoderBackend | None,
) -> CoderRecipe:
    from codebook.coded_csv import read_coded_csv
    from codebook.loader import load_codebook
    from service.app.batch_recipes import recipe_from_coded
    from service.app.runtime import build_encoder
    from service.settings import get_settings

    book = load_codebook(codebook)
    coded = read_coded_csv(exemplars, book) if exemplars is not None else None
    has_exemplars = coded is not None and len(coded) > 0
    chosen = method or (DEFAULT_METHOD if has_exemplars else COLD_START_METHOD)
    if not has_exemplars and chosen != COLD_START_METHOD:
        raise InputError(
            f"method {chosen!r} needs coded units (--exemplars); without them only the "
            f"{COLD_START_METHOD} method works, from the codebook's definitions and examples"
        )
    settings = get_settings()
    if backend is not None:  # the recipe carries it to every process that rebuilds the coder
        settings = settings.model_copy(update={"encoder_backend": backend})
    encoder = build_encoder(settings)
    return recipe_from_coded(settings, encoder, book, coded, method=chosen, options=options)


def _project_recipe(
    project: str, method: str | None, options: SuggestOptions, backend: EncoderBackend | None
) -> CoderRecipe:
    from service.app.batch_recipes import recipe_from_project
    from service.app.lifecycle import local_workspace
    from service.app.projects import require_stored_project
    from service.settings import get_settings

    configured = get_settings().encoder_backend
    if backend is not None and backend != configured:
        # A project's exemplars are embedded by its configured encoder; another backend's
        # vectors would not compare with them, and re-embedding would rewrite the store.
        raise InputError(
            f"--backend {backend} differs from the backend project {project!r} is embedded "
            f"with ({configured}); leave --backend out, or set INTERCODER_ENCODER_BACKEND for "
            "the service and the command line alike"
        )
    require_stored_project(project)  # an unknown project fails now, before the model loads
    with local_workspace() as workspace:
        return recipe_from_project(
            workspace, project, method=method or DEFAULT_METHOD, options=options
        )


def _run(
    recipe: CoderRecipe,
    request: BatchRequest,
    quiet: bool,
    engine: EngineChoice,
    address: str | None,
    workers: int,
) -> BatchSummary:
    from service.app.batch_coding import run_batch
    from service.app.batch_inputs import count_work
    from service.cli.progress import batch_progress

    if engine is EngineChoice.ray:
        from service.app.batch_ray import run_batch_ray

        return run_batch_ray(recipe, request, address=address, workers=workers)
    total = count_work(request.sources, request.table_rows)
    with batch_progress(quiet, total) as progress:
        try:
            return run_batch(recipe, request, progress=progress)
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted: what was coded is saved in {request.out}; run the same command "
                "again to continue",
                err=True,
            )
            raise typer.Exit(code=130) from None


def _print_trust(summary: BatchSummary) -> None:
    """Each code's sentences and verdict (every codable code, most used first), and how many
    codes got each verdict."""
    from eval.trust import HEADLINES, short_text, verdict_counts

    counts = verdict_counts(verdict.kind for verdict in summary.trust.values())
    if counts["not_evaluated"] == len(summary.trust):
        typer.echo(
            f"  trust: not evaluated with {summary.method} (evaluate the project with it to "
            "learn which codes the machine can code alone)"
        )
    else:
        typer.echo("  codes by verdict: " + "; ".join(
            f"{HEADLINES[kind]} {count}" for kind, count in counts.items() if count
        ))  # fmt: skip
    typer.echo(f"  {'code':<24} {'sentences':>10}  trust")
    used = summary.totals.code_counts
    for code_id in sorted(summary.trust, key=lambda code: -used.get(code, 0)):
        verdict = short_text(summary.trust[code_id])
        typer.echo(f"  {code_id:<24} {used.get(code_id, 0):>10,}  {verdict}")


def _print_summary(summary: BatchSummary) -> None:
    totals = summary.totals
    rate = summary.sentences_this_run / max(summary.seconds_this_run, 1e-9)
    typer.echo(f"coded {totals.sentences:,} sentences of {totals.transcripts:,} transcripts "
               f"into {summary.output}")  # fmt: skip
    typer.echo(f"  this run: {summary.sentences_this_run:,} sentences in "
               f"{summary.seconds_this_run:.1f} s ({rate:,.0f}/s)")  # fmt: skip
    typer.echo(f"  no code: {totals.no_code:,}; abstained: {totals.abstained:,}; "
               f"speaker not coded: {totals.skipped:,}")  # fmt: skip
    _print_trust(summary)
    for unreadable in summary.unreadable:
        typer.echo(f"skipped {unreadable.source}: {unreadable.reason}", err=True)
    echo_data_warnings(summary.warnings)
    if summary.unheard_speakers:
        typer.echo(
            f"warning: --speakers names {', '.join(summary.unheard_speakers)}, who never spoke "
            "in the sentences coded; check the names, then run again with --restart",
            err=True,
        )
    if not totals.sentences and summary.unreadable:
        fail(f"none of the {len(summary.unreadable)} input(s) could be read; see the lines above")
