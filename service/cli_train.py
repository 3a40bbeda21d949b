"""``intercoder train``: fine-tune the encoder on a project's coded units into a project model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli_support import exits_cleanly


@exits_cleanly
def train(
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="Coded units: a CSV file (see README), a REFI-QDA project (.qdpx) or a "
            "dataset: annomi:therapist, annomi:client, swda.",
        ),
    ],
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
) -> None:
    """Fine-tune MiniLM on coded units, each read with its speaker and the unit before it.

    Writes a model folder named after the hash of the training data, the codebook and the
    settings. Suggest with it: `intercoder suggest --model FOLDER`, or serve it with
    INTERCODER_MODEL_PATH=FOLDER intercoder serve.
    """
    import dataclasses

    from eval.inputs import load_eval_input
    from models.finetune import TrainConfig
    from models.project_model import save_project_model, train_project_model
    from service.cli_evaluate import subsample_transcripts
    from service.settings import get_settings

    source = load_eval_input(data, codebook, shared_dir)
    frame, note = subsample_transcripts(source.reference, max_transcripts, seed)
    if note:
        typer.echo(f"training on a {note}", err=True)
    typer.echo(
        f"training on {len(frame)} units of {frame['transcript_id'].nunique()} transcripts "
        f"({source.codebook.name}, {len(source.codebook.codable_ids)} codes)",
        err=True,
    )
    config = dataclasses.replace(TrainConfig(), seed=seed)
    trained = train_project_model(
        frame, source.codebook, config, progress=lambda line: typer.echo(line, err=True)
    )
    folder = save_project_model(trained, out or get_settings().data_dir / "models")
    losses = ", ".join(f"{loss:.3f}" for loss in trained.card.validation_losses)
    typer.echo(f"wrote {folder}")
    typer.echo(
        f"  {trained.card.n_units} units, {trained.result.steps} steps in "
        f"{trained.card.train_seconds:.0f} s; held-out loss by check: {losses or 'n/a'}"
    )
    typer.echo(f"  suggest with: intercoder suggest TRANSCRIPT --model {folder} --codebook ...")
