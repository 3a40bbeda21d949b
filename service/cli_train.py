"""``intercoder train``: fine-tune the encoder on a project's coded units into a project model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codebook.errors import InputError
from service.cli_support import exits_cleanly

if TYPE_CHECKING:
    import pandas as pd

    from codebook.model import Codebook


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
    from service.cli_evaluate import subsample_transcripts, tuning_config
    from service.settings import get_settings

    if (data is None) == (project is None):
        raise InputError(
            "give either --data (coded units, a .qdpx or a dataset) or --project (a project of "
            "the local store), not both and not neither"
        )
    if project is not None:
        book, coded = project_training_data(project)
    else:
        source = load_eval_input(str(data), codebook, shared_dir)
        book, coded = source.codebook, source.reference
    frame, note = subsample_transcripts(coded, max_transcripts, seed)
    if note:
        typer.echo(f"training on a {note}", err=True)
    typer.echo(
        f"training on {len(frame)} units of {frame['transcript_id'].nunique()} transcripts "
        f"({book.name}, {len(book.codable_ids)} codes)",
        err=True,
    )
    config = dataclasses.replace(tuning_config(trained_layers) or TrainConfig(), seed=seed)
    trained = train_project_model(
        frame, book, config, progress=lambda line: typer.echo(line, err=True)
    )
    folder = save_project_model(trained, out or get_settings().data_dir / "models")
    losses = ", ".join(f"{loss:.3f}" for loss in trained.card.validation_losses)
    typer.echo(f"wrote {folder}")
    typer.echo(
        f"  {trained.card.n_units} units, {trained.result.steps} steps in "
        f"{trained.card.train_seconds:.0f} s; held-out loss by check: {losses or 'n/a'}"
    )
    typer.echo(f"  suggest with: intercoder suggest TRANSCRIPT --model {folder} --codebook ...")


def project_training_data(project_id: str) -> tuple[Codebook, pd.DataFrame]:
    """A stored project's codebook and its exemplars as a coded-units table."""
    from service.settings import get_settings
    from service.store import Store
    from service.store_exemplars import all_exemplars, coded_units
    from service.store_projects import current_codebook

    store = Store(get_settings().database_path)
    try:
        with store.read() as connection:
            book = current_codebook(connection, project_id)
            rows = all_exemplars(connection, project_id)
    finally:
        store.close()
    return book, coded_units(rows)
