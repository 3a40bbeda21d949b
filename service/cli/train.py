"""``intercoder train``: fine-tune the encoder on a project's coded units into a project model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.paths import coded_data, input_folder, output_folder
from service.cli.progress import QUIET_HELP, step_progress
from service.cli.support import exits_cleanly


@exits_cleanly
def train(
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Coded units: a CSV file (see README), a REFI-QDA project (.qdpx) or a "
            "dataset: annomi:therapist, annomi:client, swda.",
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            help="Train on a project of the local store (its exemplars and codebook) instead.",
        ),
    ] = None,
    codebook: Annotated[
        str | None,
        typer.Option(
            "--codebook",
            help="Codebook .yaml or shipped name; datasets and .qdpx projects bring their own.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to keep project models in; default: <data dir>/models."),
    ] = None,
    max_transcripts: Annotated[
        int | None,
        typer.Option(min=2, help="Train on a random sample of this many transcripts."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample and of training.")] = 0,
    shared_dir: Annotated[
        Path | None, typer.Option(help="The shared/ folder with the public datasets.")
    ] = None,
    trained_layers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=6,
            help="How many top layers of MiniLM's 6 to fine-tune (default 2); more train "
            "more slowly.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
) -> None:
    """Fine-tune MiniLM on coded units, each read with its speaker and the unit before it.

    Writes a model folder named after the hash of the training data, the codebook and the
    settings. Suggest with it: `intercoder suggest --model FOLDER`, or serve it with
    INTERCODER_MODEL_PATH=FOLDER intercoder serve.
    """
    from service.app.training import TrainingPlan, train_model
    from service.settings import get_settings

    if data is not None:
        coded_data(data)
    if out is not None:
        output_folder(out, "--out")
    if shared_dir is not None:
        input_folder(shared_dir, "--shared-dir", "the shared/ folder with the public datasets")
    plan = TrainingPlan(
        data=data,
        project=project,
        codebook=codebook,
        out=out,
        max_transcripts=max_transcripts,
        seed=seed,
        shared_dir=shared_dir,
        trained_layers=trained_layers,
    )
    with step_progress(quiet) as step:  # each training step on a terminal, nothing in a pipe
        outcome = train_model(plan, get_settings(), step)
    losses = ", ".join(f"{loss:.3f}" for loss in outcome.validation_losses)
    typer.echo(f"wrote {outcome.folder}")
    typer.echo(
        f"  {outcome.units} units, {outcome.steps} steps in {outcome.seconds:.0f} s; "
        f"held-out loss by check: {losses or 'n/a'}"
    )
    typer.echo(
        f"  suggest with: intercoder suggest TRANSCRIPT --model {outcome.folder} --codebook ..."
    )
