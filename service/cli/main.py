"""The ``intercoder`` command line.

Every command turns intercoder's own errors into one readable line on stderr and exit status 2,
the same status Typer uses for a malformed command line, so scripts can tell "fix your input"
(2) from "intercoder broke" (1).
"""

from __future__ import annotations

import csv
import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from codebook.errors import CodebookError
from codebook.loader import SHIPPED_CODEBOOKS, load_codebook
from codebook.model import Codebook
from service.cli.backup import backup, restore
from service.cli.code import code
from service.cli.evaluate import evaluate
from service.cli.global_options import global_options
from service.cli.info import info
from service.cli.keys import keys_app
from service.cli.next_units import next_command
from service.cli.projects import projects_app
from service.cli.refi import export, import_file
from service.cli.serve import serve
from service.cli.suggest import suggest
from service.cli.support import OneLineErrors, exits_cleanly
from service.cli.train import train

app = typer.Typer(
    name="intercoder",
    cls=OneLineErrors,
    help=(
        "Code qualitative interview transcripts alongside human coders: suggestions from the "
        "sentences your team already coded, with the evidence behind them."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
codebook_app = typer.Typer(help="Inspect and validate codebooks.", no_args_is_help=True)
transcript_app = typer.Typer(
    help="Read transcripts and split them into sentences.", no_args_is_help=True
)
app.add_typer(codebook_app, name="codebook")
app.add_typer(transcript_app, name="transcript")
app.add_typer(keys_app, name="keys")
app.add_typer(projects_app, name="projects")
app.callback()(global_options)
app.command("suggest")(suggest)
app.command("code")(code)
app.command("evaluate")(evaluate)
app.command("next")(next_command)
app.command("serve")(serve)
app.command("train")(train)
app.command("import")(import_file)
app.command("export")(export)
app.command("info")(info)
app.command("backup")(backup)
app.command("restore")(restore)


class CodebookFormat(enum.StrEnum):
    table = "table"
    yaml = "yaml"
    json = "json"


class SentenceFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


CODEBOOK_ARGUMENT_HELP = (
    f"A codebook .yaml file, or a shipped codebook: {', '.join(SHIPPED_CODEBOOKS)}."
)


@codebook_app.command("show")
@exits_cleanly
def codebook_show(
    file_or_name: Annotated[str, typer.Argument(metavar="FILE|NAME", help=CODEBOOK_ARGUMENT_HELP)],
    output_format: Annotated[
        CodebookFormat, typer.Option("--format", help="table for people, yaml or json for tools.")
    ] = CodebookFormat.table,
) -> None:
    """Show a codebook: its version, categories and codes as a tree."""
    book = load_codebook(file_or_name)
    if output_format is CodebookFormat.yaml:
        from codebook.loader import codebook_to_yaml

        typer.echo(codebook_to_yaml(book), nl=False)
    elif output_format is CodebookFormat.json:
        payload = book.model_dump(mode="json") | {"version": book.version}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        typer.echo(_describe(book))
        for code_id, name, flags, examples in book.summary_rows():
            typer.echo(f"  {code_id:<14} {name:<40} {flags:<20} {examples} examples")


@codebook_app.command("validate")
@exits_cleanly
def codebook_validate(
    file_or_name: Annotated[str, typer.Argument(metavar="FILE|NAME", help=CODEBOOK_ARGUMENT_HELP)],
) -> None:
    """Check a codebook and list every problem with its line; exit 2 when there is any."""
    try:
        book = load_codebook(file_or_name)
    except CodebookError as error:
        for problem in error.problems:
            typer.echo(str(problem))
        typer.echo(f"error: {file_or_name}: {error.message}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"ok: {_describe(book)}")


def _describe(book: Codebook) -> str:
    categories = len(book.codes) - len(book.codable_ids)
    return (
        f"{book.name} (version {book.version}): {len(book.codable_ids)} codes, "
        f"{categories} categories, {len(book.exclusive_groups)} exclusive"
    )


@transcript_app.command("split")
@exits_cleanly
def transcript_split(
    file: Annotated[
        Path,
        typer.Argument(help="A transcript: .txt with speaker labels, .vtt, .srt, .docx or .csv."),
    ],
    output_format: Annotated[
        SentenceFormat, typer.Option("--format", help="table for people, csv or json for tools.")
    ] = SentenceFormat.table,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format", help="text, vtt, srt, docx or csv; default from the extension."
        ),
    ] = None,
    transcript_id: Annotated[
        str | None,
        typer.Option("--id", help="Transcript id; default the file name without extension."),
    ] = None,
    spacy_pipeline: Annotated[
        str | None,
        typer.Option(
            "--spacy-pipeline",
            help=(
                "An installed trained spaCy pipeline (e.g. en_core_web_sm) "
                "instead of the rule-based sentencizer."
            ),
        ),
    ] = None,
) -> None:
    """Split a transcript into speaker-attributed sentences with their character offsets."""
    from codebook.transcripts import Segmenter, read_transcript

    transcript = read_transcript(file, format=input_format, transcript_id=transcript_id)
    sentences = Segmenter(spacy_pipeline).split(transcript)
    rows = [sentence.model_dump(mode="json") for sentence in sentences]
    if output_format is SentenceFormat.json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output_format is SentenceFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        typer.echo(f"{transcript.id}: {len(transcript.turns)} turns, {len(sentences)} sentences")
        for sentence in sentences:
            span = f"[{sentence.start}:{sentence.end}]"
            typer.echo(f"{sentence.index:>5} {span:>15} {sentence.speaker:<16} {sentence.text}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
