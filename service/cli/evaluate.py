"""``intercoder evaluate``: machine-vs-human agreement, code by code, as JSON and HTML."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eval.method_names import ALL_METHODS, DEFAULT_METHODS
from service.cli.paths import coded_data, input_folder, output_folder
from service.cli.progress import QUIET_HELP, step_progress
from service.cli.support import BackendOption, backend_choice, exits_cleanly

if TYPE_CHECKING:
    from eval.report_model import ActiveLearning


class Grouping(enum.StrEnum):
    group = "group"
    transcript = "transcript"


@exits_cleanly
def evaluate(
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="Coded units: a CSV file (see README), a REFI-QDA project (.qdpx) or a "
            "dataset: annomi:therapist, annomi:client, swda, swda-nocode, chatterbot.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for report.json and report.html (created; reports there are replaced).",
        ),
    ],
    codebook: Annotated[
        str | None,
        typer.Option(
            "--codebook",
            help="Codebook .yaml or shipped name; datasets and .qdpx projects bring their own.",
        ),
    ] = None,
    method: Annotated[
        list[str] | None,
        typer.Option(
            "--method",
            help=f"Repeat to choose from: {', '.join(ALL_METHODS)}; default: "
            f"{', '.join(DEFAULT_METHODS)}.",
        ),
    ] = None,
    folds: Annotated[
        int,
        typer.Option(
            min=2, help="Grouped folds; fewer when the data has fewer transcripts (groups)."
        ),
    ] = 5,
    leave_one_out: Annotated[
        bool, typer.Option("--leave-one-out", help="Leave one transcript (group) out instead.")
    ] = False,
    group_by: Annotated[
        Grouping,
        typer.Option(
            help="group: the data's grouping column (AnnoMI: the video, stricter than the "
            "transcript); transcript: the transcript id."
        ),
    ] = Grouping.group,
    seed: Annotated[int, typer.Option(help="Seed for folds, subsamples and bootstraps.")] = 0,
    max_transcripts: Annotated[
        int | None,
        typer.Option(min=2, help="Evaluate on a random sample of this many transcripts."),
    ] = None,
    max_train_units: Annotated[
        int | None,
        typer.Option(min=10, help="Train each fold on at most this many units (random)."),
    ] = None,
    learning_curve: Annotated[
        bool, typer.Option(help="Kappa against the share of training transcripts.")
    ] = True,
    learning_method: Annotated[
        str, typer.Option(help="The method the learning curve is drawn for.")
    ] = "linear",
    shared_dir: Annotated[
        Path | None, typer.Option(help="The shared/ folder with the public datasets.")
    ] = None,
    min_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="For a .qdpx: a sentence takes a coder's code when that coder's selections "
            "cover at least this share of it.",
        ),
    ] = 0.5,
    trained_layers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=6,
            help="Tuned methods: how many top layers of MiniLM's 6 to fine-tune (default 4, "
            "fixed for every dataset; more layers train more slowly).",
        ),
    ] = None,
    active_learning: Annotated[
        bool,
        typer.Option(
            "--active-learning",
            help="Also simulate a coder coding in intercoder next's order versus random "
            "order: held-out kappa after each checkpoint, on the same grouped folds.",
        ),
    ] = False,
    al_checkpoints: Annotated[
        str, typer.Option(help="Active learning: units coded when kappa is measured.")
    ] = "100,200,500,1000,2000",
    al_batch: Annotated[
        int, typer.Option(min=1, help="Active learning: units coded a round.")
    ] = 50,
    al_seeds: Annotated[
        int, typer.Option(min=1, help="Active learning: seeds, each its own folds.")
    ] = 3,
    al_max_folds: Annotated[
        int | None,
        typer.Option(min=1, help="Active learning: folds run per seed (default: all)."),
    ] = None,
    backend: BackendOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
) -> None:
    """Cross-validate methods against human coding; write report.json and report.html."""
    from eval.active_learning import SimulationOptions, parse_checkpoints
    from eval.html_report import write_report
    from service.app.evaluating import EvaluationPlan, evaluate_coded
    from service.app.runtime import build_encoder

    simulation = None
    if active_learning:
        simulation = SimulationOptions(
            checkpoints=parse_checkpoints(al_checkpoints),
            batch=al_batch,
            seeds=al_seeds,
            max_folds=al_max_folds,
        )
    # Checked now: a bad --out found after the evaluation would throw its minutes away.
    coded_data(data)
    output_folder(out, "--out")
    if shared_dir is not None:
        input_folder(shared_dir, "--shared-dir", "the shared/ folder with the public datasets")
    plan = EvaluationPlan(
        data=data,
        codebook=codebook,
        methods=tuple(method or DEFAULT_METHODS),
        folds=None if leave_one_out else folds,
        group_by=group_by.value,
        seed=seed,
        max_transcripts=max_transcripts,
        max_train_units=max_train_units,
        learning_method=learning_method if learning_curve else None,
        shared_dir=shared_dir,
        min_share=min_share,
        trained_layers=trained_layers,
        active_learning=simulation,
    )
    chosen = backend_choice(backend)
    with step_progress(quiet) as step:
        report = evaluate_coded(plan, lambda: build_encoder(backend=chosen), step, notify=_note)
    json_path, html_path = write_report(report, out)
    typer.echo(f"wrote {json_path} and {html_path}")
    for result in report.methods:
        kappa = "n/a" if result.kappa is None else f"{result.kappa:.3f}"
        typer.echo(f"  {result.method:<10} kappa {kappa}")
    if report.active_learning is not None:
        _print_simulation(report.active_learning)


def _print_simulation(simulation: ActiveLearning) -> None:
    full = simulation.full_data_kappa
    typer.echo(
        f"  active learning ({simulation.seeds} seeds, batch {simulation.batch}): full-data "
        f"kappa {'n/a' if full is None else f'{full:.3f}'}"
    )
    for curve in simulation.curves:
        points = ", ".join(
            f"{point.n_coded}: {'n/a' if point.kappa is None else f'{point.kappa:.3f}'}"
            for point in curve.points
        )
        reach = curve.units_to_full_kappa
        typer.echo(
            f"    {curve.order:<9} {points}; reaches it at "
            f"{'-' if reach is None else f'{reach:.0f}'} units"
        )


def _note(line: str) -> None:
    typer.echo(f"note: {line}", err=True)
