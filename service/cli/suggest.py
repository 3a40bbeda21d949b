"""``intercoder suggest``: per-sentence code suggestions for a transcript, with evidence."""

from __future__ import annotations

import csv
import enum
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codebook.loader import SHIPPED_CODEBOOKS
from codebook.transcripts import Sentence
from models.methods import (
    COLD_START_METHOD,
    DEFAULT_EVIDENCE,
    DEFAULT_METHOD,
    DEFAULT_TOP,
    METHOD_NAMES,
)
from models.suggestions import UnitSuggestion
from service.cli.data_notes import echo_data_warnings
from service.cli.paths import input_file, input_folder
from service.cli.progress import QUIET_HELP, step_progress
from service.cli.support import BackendOption, backend_choice, exits_cleanly

if TYPE_CHECKING:
    from eval.report_model import TrustVerdict

MethodChoice = enum.StrEnum("MethodChoice", {name: name for name in METHOD_NAMES})  # type: ignore[misc]


class SuggestFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@exits_cleanly
def suggest(
    transcript: Annotated[
        Path,
        typer.Argument(help="A transcript: .txt with speaker labels, .vtt, .srt, .docx, .csv."),
    ],
    codebook: Annotated[
        str,
        typer.Option(
            "--codebook",
            help=f"A codebook .yaml file or a shipped one: {', '.join(SHIPPED_CODEBOOKS)}.",
        ),
    ],
    exemplars: Annotated[
        Path | None,
        typer.Option(
            "--exemplars",
            help="Coded units (CSV: transcript_id, text, codes; see README). Without it, the "
            "codebook's definitions and examples are the exemplars (cold start, prototype).",
        ),
    ] = None,
    method: Annotated[
        MethodChoice | None,
        typer.Option(
            help="linear (default with exemplars), knn, blend, or prototype (the cold start)."
        ),
    ] = None,
    output_format: Annotated[
        SuggestFormat, typer.Option("--format", help="table for people, csv or json for tools.")
    ] = SuggestFormat.table,
    top: Annotated[
        int, typer.Option(min=1, max=50, help="Codes ranked per sentence.")
    ] = DEFAULT_TOP,
    abstain_below: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Leave sentences below this confidence to a human."),
    ] = 0.0,
    speakers: Annotated[
        list[str] | None,
        typer.Option(
            "--speakers",
            help="Code only these speakers' sentences (repeat, or separate with commas); "
            "replaces the codebook's speaker roles.",
        ),
    ] = None,
    skip_speakers: Annotated[
        list[str] | None,
        typer.Option(
            "--skip-speakers",
            help="Skip these speakers' sentences instead of those the codebook skips "
            "(repeat, or separate with commas; an empty value codes everyone).",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="A project model folder from `intercoder train`, or any local "
            "sentence-transformers folder; default: the configured model "
            "(INTERCODER_MODEL_PATH), else the bundled all-MiniLM-L6-v2.",
        ),
    ] = None,
    evaluation: Annotated[
        Path | None,
        typer.Option(
            "--evaluation",
            help="The report.json of `intercoder evaluate` on this codebook: each code's trust "
            "verdict (machine alone, suggest only, code by hand, too few examples) for the "
            "method used. Without it every code is 'not evaluated'.",
        ),
    ] = None,
    backend: BackendOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
) -> None:
    """Suggest codes for each sentence of a transcript, with the exemplars behind them.

    A project model reads each sentence with its speaker and the sentence before it, as it
    did in training; the bundled model reads the sentence alone.
    """
    from codebook.coded_csv import read_coded_csv
    from codebook.loader import load_codebook
    from codebook.speakers import check_speaker_choice
    from codebook.transcripts import read_transcript, split_sentences
    from models.methods import SuggestOptions
    from service.app.evaluating import trust_from_report_file
    from service.app.runtime import build_encoder
    from service.app.suggesting import suggest_offline

    _check_paths(transcript, exemplars, model, evaluation)
    book = load_codebook(codebook)
    sentences = split_sentences(read_transcript(transcript))
    coded = read_coded_csv(exemplars, book) if exemplars is not None else None
    chosen = (
        method.value
        if method is not None
        else (DEFAULT_METHOD if coded is not None else COLD_START_METHOD)
    )
    if coded is None and chosen != COLD_START_METHOD:
        typer.echo(
            f"error: method {chosen!r} needs --exemplars; without coded data only the "
            "prototype method works (from the codebook's definitions and examples)",
            err=True,
        )
        raise typer.Exit(code=2)
    if coded is not None and coded.empty:
        typer.echo(
            f"note: {exemplars} has no coded units; suggesting from the codebook alone "
            "(the cold start)",
            err=True,
        )
    options = SuggestOptions(
        top=top,
        evidence=DEFAULT_EVIDENCE,
        abstain_below=abstain_below,
        speakers=speaker_names(speakers),
        skip_speakers=speaker_names(skip_speakers),
    )
    check_speaker_choice(  # a bad speaker choice fails now, before the model loads
        [sentence.speaker for sentence in sentences],
        speakers=options.speakers,
        skip_speakers=options.skip_speakers,
    )
    trust = None if evaluation is None else trust_from_report_file(evaluation, book, chosen)
    with step_progress(quiet) as step:
        step("loading the model")
        encoder = build_encoder(model_path=model, backend=backend_choice(backend))
        batch = suggest_offline(
            encoder,
            book,
            sentences,
            coded,
            method=chosen,
            options=options,
            progress=step,
            trust=trust,
        )
    _print(sentences, batch.units, batch.trust, output_format)
    if output_format is SuggestFormat.table:
        _print_trust(batch.trust, evaluation)
    echo_data_warnings(batch.warnings)  # last, where a reader of the table will see it


def _check_paths(
    transcript: Path, exemplars: Path | None, model: Path | None, evaluation: Path | None
) -> None:
    input_file(transcript, "TRANSCRIPT", "a transcript (.txt, .vtt, .srt, .docx or .csv)")
    if exemplars is not None:
        input_file(exemplars, "--exemplars", "a coded-units CSV (transcript_id, text, codes)")
    if model is not None:
        input_folder(model, "--model", "a model folder from `intercoder train`")
    if evaluation is not None:
        input_file(evaluation, "--evaluation", "the report.json of `intercoder evaluate`")


def _print(
    sentences: list[Sentence],
    suggestions: list[UnitSuggestion],
    trust: dict[str, TrustVerdict],
    output_format: SuggestFormat,
) -> None:
    pairs = list(zip(sentences, suggestions, strict=True))
    if output_format is SuggestFormat.json:
        rows = [
            {
                "sentence": s.model_dump(mode="json"),
                "suggestion": u.model_dump(mode="json"),
                "trust": {code.code: trust[code.code].kind for code in u.codes},
            }
            for s, u in pairs
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output_format is SuggestFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(
            ["transcript_id", "sentence", "turn", "speaker", "start", "end", "text",
             "suggested", "abstained", "skipped", "confidence", "scores", "evidence", "trust"]
        )  # fmt: skip
        for sentence, unit in pairs:
            writer.writerow(
                [sentence.transcript_id, sentence.index, sentence.turn_index, sentence.speaker,
                 sentence.start, sentence.end, sentence.text, ";".join(unit.suggested),
                 unit.abstained, unit.skipped, f"{unit.confidence:.3f}", _scores(unit),
                 _evidence(unit), ";".join(f"{c.code}={trust[c.code].kind}" for c in unit.codes)]
            )  # fmt: skip
    else:
        _print_table(pairs)


def _print_trust(trust: dict[str, TrustVerdict], evaluation: Path | None) -> None:
    """Each code's verdict under the table: whether its suggestions may stand alone."""
    from eval.trust import short_text

    width = max(40, shutil.get_terminal_size((100, 24)).columns)
    if evaluation is None:
        _echo_wrapped(
            "trust: not evaluated (give --evaluation with the report.json of `intercoder "
            "evaluate` on this codebook to learn which codes the machine can code alone)",
            2,
            width,
        )
        return
    typer.echo(f"trust, from {evaluation}:")
    for code, verdict in trust.items():
        _echo_wrapped(f"  {code}: {short_text(verdict)}", 4, width)


def _print_table(pairs: list[tuple[Sentence, UnitSuggestion]]) -> None:
    """Each sentence, its decision and the evidence, wrapped to the terminal's width with the
    continuation lines indented, so a narrow terminal keeps the columns apart."""
    width = max(40, shutil.get_terminal_size((100, 24)).columns)
    for sentence, unit in pairs:
        _echo_wrapped(f"{sentence.index:>4} {sentence.speaker or '-'}: {sentence.text}", 5, width)
        scores = _scores(unit).replace(";", " ")  # spaces let the list wrap between codes
        _echo_wrapped(f"     -> {_decision(unit)}   [{scores}]", 8, width)
        for code in unit.codes:
            if code.suggested and code.supporting:
                best = code.supporting[0]
                line = f"        {code.code} because ({best.similarity:.2f}) {best.text}"
                _echo_wrapped(line, 10, width)


def _echo_wrapped(line: str, indent: int, width: int) -> None:
    start = len(line) - len(line.lstrip(" "))
    typer.echo(
        textwrap.fill(
            line.lstrip(" "),
            width=width,
            initial_indent=" " * start,
            subsequent_indent=" " * indent,
            break_on_hyphens=False,
            break_long_words=False,
        )
    )


def speaker_names(given: list[str] | None) -> tuple[str, ...] | None:
    """Speaker names from repeated options, each possibly a comma-separated list."""
    if given is None:
        return None
    return tuple(name.strip() for value in given for name in value.split(",") if name.strip())


def _decision(unit: UnitSuggestion) -> str:
    if unit.skipped:
        return "skipped (this speaker is not coded)"
    if unit.abstained:
        return f"abstained (confidence {unit.confidence:.2f})"
    if unit.no_code:
        return "no code"
    return ", ".join(unit.suggested)


def _scores(unit: UnitSuggestion) -> str:
    return ";".join(f"{code.code}={code.score:.2f}" for code in unit.codes)


def _evidence(unit: UnitSuggestion) -> str:
    """The nearest supporting exemplar of each suggested code, as code=exemplar id."""
    return ";".join(
        f"{code.code}={code.supporting[0].exemplar_id}"
        for code in unit.codes
        if code.suggested and code.supporting
    )
