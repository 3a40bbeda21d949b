"""``intercoder import`` and ``intercoder export``: REFI-QDA files (ATLAS.ti, NVivo, MAXQDA,
QualCoder) in and out, to files or to the local service store.

The store is the service's own (``INTERCODER_DATA_DIR``). Write to it while the service is
stopped, or use the service's endpoints instead: a running service does not see projects that
another process adds. Register with ``app.command("import")(import_file)`` and
``app.command("export")(export)``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codebook.errors import InputError
from service.cli.paths import output_file
from service.cli.progress import QUIET_HELP, step_progress
from service.cli.support import exits_cleanly
from service.refi.formats import Include, RefiFormat, refi_format

if TYPE_CHECKING:
    from codebook.model import Codebook
    from codebook.refi import RefiProject
    from service.refi.exporting import RefiExport
    from service.refi.importing import RefiSummary

MIN_SHARE_HELP = (
    "A sentence takes a coder's code when that coder's selections cover at least this share of it."
)
UTF16_HELP = "Offsets count UTF-16 units, as NVivo for Windows writes them."
FORCE_HELP = "Overwrite output files that exist (refused without it, so no work is lost)."


@exits_cleanly
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A REFI-QDA .qdpx project or .qdc codebook."
        ),
    ],
    min_share: Annotated[float, typer.Option(min=0.0, max=1.0, help=MIN_SHARE_HELP)] = 0.5,
    utf16_offsets: Annotated[bool, typer.Option("--utf16-offsets", help=UTF16_HELP)] = False,
    codebook_out: Annotated[
        Path | None, typer.Option(help="Write the codebook here as intercoder YAML.")
    ] = None,
    coded_out: Annotated[
        Path | None,
        typer.Option(help="Write every coder's sentence codings here as a coded-units CSV."),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            help="Create this project in the local service store with the codebook, the "
            "transcripts and the codings (all or nothing)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="With --project: its name (default: the file's).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Read a REFI-QDA file: summarise it, or write its codebook, codings, or a project."""
    from codebook.coded_csv import write_coded_csv
    from codebook.loader import codebook_to_yaml
    from service.refi.formats import ImportOptions
    from service.refi.importing import import_refi_project, read_refi_path, summarise

    if project is not None:
        _check_project_id(project)
    for path, option in ((codebook_out, "--codebook-out"), (coded_out, "--coded-out")):
        if path is not None:
            output_file(path, option, force=force)
    options = ImportOptions(min_share=min_share, utf16_offsets=utf16_offsets)
    refi = read_refi_path(file, options)
    for warning in refi.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if coded_out is not None and not refi.sources:
        raise InputError(
            f"{file.name} has no text sources (a .qdc holds a codebook only); --coded-out needs "
            "a .qdpx project with coded sources"
        )
    if project is not None:
        from service.app.lifecycle import local_workspace

        with local_workspace() as state:
            imported = import_refi_project(state, refi, project, name)
        typer.echo(
            f"created project {project!r} with {imported.project.exemplar_count} exemplars "
            f"(codebook version {imported.project.codebook_version})"
        )
    if codebook_out is not None:
        codebook_out.parent.mkdir(parents=True, exist_ok=True)
        codebook_out.write_text(codebook_to_yaml(refi.codebook), encoding="utf-8")
        typer.echo(f"wrote the codebook to {codebook_out}")
    if coded_out is not None:
        coded_out.parent.mkdir(parents=True, exist_ok=True)
        write_coded_csv(refi.coded, coded_out)
        typer.echo(f"wrote {len(refi.coded)} coded sentence rows to {coded_out}")
    _print_summary(summarise(refi))


@exits_cleanly
def export(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The file to write; missing folders on its path are created."
        ),
    ],
    output_format: Annotated[
        RefiFormat | None,
        typer.Option(
            "--format", help="qdpx (a project) or qdc (a codebook); default: the extension."
        ),
    ] = None,
    project: Annotated[
        str | None, typer.Option(help="Export this project of the local service store.")
    ] = None,
    include: Annotated[
        Include,
        typer.Option(
            help="With --project: human (the coders), accepted (also the suggestions coders "
            "accepted, as the machine's) or suggested (also the machine's suggestions for "
            "every sentence no coder coded)."
        ),
    ] = Include.human,
    with_suggestions: Annotated[
        bool, typer.Option("--with-suggestions", help="Short for --include suggested.")
    ] = False,
    codebook: Annotated[
        str | None,
        typer.Option(help="Without --project: a codebook .yaml file or a shipped codebook."),
    ] = None,
    coded: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="With --codebook, for a .qdpx: coded units (CSV) whose unit_id is the "
            "sentence's index in its transcript (as `intercoder transcript split` numbers it).",
        ),
    ] = None,
    transcripts: Annotated[
        list[Path] | None,
        typer.Argument(
            exists=True, dir_okay=False, help="With --codebook, for a .qdpx: the transcripts."
        ),
    ] = None,
    utf16_offsets: Annotated[bool, typer.Option("--utf16-offsets", help=UTF16_HELP)] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Write a REFI-QDA .qdpx project or .qdc codebook, from the store or from files."""
    output_file(output, "--output", force=force)
    chosen = refi_format(output.name, output_format.value if output_format else None)
    wanted = Include.suggested if with_suggestions else include
    if (project is None) == (codebook is None):
        raise InputError(
            "export needs either --project (a project of the local store) or --codebook "
            "(with --coded and transcripts for a .qdpx), not both or neither"
        )
    exported: RefiExport | None = None
    if project is not None:
        if coded is not None or transcripts:
            raise InputError("--coded and transcript files go with --codebook, not --project")
        exported = _from_store(project, chosen, wanted, utf16_offsets, quiet)
        content = exported.content
    else:
        assert codebook is not None
        if wanted is not Include.human:
            raise InputError("--include and --with-suggestions need --project")
        content = _from_files(codebook, chosen, coded, transcripts or [], utf16_offsets)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    typer.echo(f"wrote {output} ({len(content)} bytes)")
    if exported is not None and wanted is not Include.human and chosen is RefiFormat.qdpx:
        typer.echo(f"  {_machine_added(exported, wanted)}")


def _machine_added(exported: RefiExport, include: Include) -> str:
    """What the machine user brought to the file, or why it brought nothing."""
    if exported.machine_sentences:
        return (
            f"added {exported.machine_codes} machine codings for {exported.machine_sentences} "
            f"of {exported.sentences} sentences"
        )
    if not exported.transcripts:
        why = "the project has no transcripts; import or add some first"
    elif include is Include.accepted:
        why = "no coder has accepted a suggestion yet"
    elif not exported.uncoded:
        why = "every sentence is already coded by a person"
    else:
        why = f"the machine suggested no code for any of the {exported.uncoded} uncoded sentences"
    return f"added no machine codings: {why}"


def _from_store(
    project: str, chosen: RefiFormat, include: Include, utf16: bool, quiet: bool
) -> RefiExport:
    from service.refi.exporting import export_refi
    from service.settings import get_settings
    from service.store.database import Store

    _check_project_id(project)
    if include is Include.suggested and chosen is RefiFormat.qdpx:
        from service.app.lifecycle import local_workspace
        from service.store.projects import require_project

        store = Store(get_settings().database_path)
        try:  # an unknown project fails now, before the model loads
            with store.read() as connection:
                require_project(connection, project)
        finally:
            store.close()

        with step_progress(quiet) as step:
            step("loading the model and the projects' indexes")
            with local_workspace() as state:
                step(f"suggesting codes for the sentences of {project!r} no coder coded")
                return export_refi(
                    state.store, project, chosen, include, utf16_offsets=utf16, service=state
                )
    store = Store(get_settings().database_path)
    try:
        return export_refi(store, project, chosen, include, utf16_offsets=utf16)
    finally:
        store.close()


def _from_files(
    codebook: str, chosen: RefiFormat, coded: Path | None, transcripts: list[Path], utf16: bool
) -> bytes:
    from codebook.loader import load_codebook
    from codebook.refi import write_qdc, write_qdpx

    book = load_codebook(codebook)
    if chosen is RefiFormat.qdc:
        if coded is not None or transcripts:
            raise InputError("a .qdc holds the codebook only; leave out --coded and transcripts")
        return write_qdc(book)
    if not transcripts:
        raise InputError(
            "a .qdpx from files needs the transcripts: give their files after the options "
            "(and --coded for the codings)"
        )
    return write_qdpx(_project_from_files(book, coded, transcripts), utf16_offsets=utf16)


def _project_from_files(book: Codebook, coded: Path | None, transcripts: list[Path]) -> RefiProject:
    from codebook.coded import coded_frame
    from codebook.coded_csv import read_coded_csv
    from codebook.refi import project_from_parts
    from codebook.transcripts import read_transcript, split_sentences
    from service.refi.importing import check_units_match

    read = [read_transcript(path) for path in transcripts]
    frame = read_coded_csv(coded, book) if coded is not None else coded_frame([])
    check_units_match(frame, {t.id: split_sentences(t) for t in read})
    return project_from_parts(book.name, book, tuple(read), frame)


def _check_project_id(project: str) -> None:
    from service.store.ids import PROJECT_ID_PATTERN

    if not re.match(PROJECT_ID_PATTERN, project):
        raise InputError(
            f"--project {project!r} is not a project id: use 1 to 64 lower-case letters, "
            "digits, '-' and '_', starting with a letter or digit"
        )


def _print_summary(summary: RefiSummary) -> None:
    typer.echo(
        f"{summary.name}: {summary.codes} codes ({summary.categories} categories), "
        f"{summary.transcripts} sources, {summary.sentences} sentences, "
        f"{len(summary.coders)} coder(s); codebook version {summary.codebook_version}"
    )
    for coder, count in summary.coded_units.items():
        typer.echo(f"  {coder:<30} {count} coded sentences")
