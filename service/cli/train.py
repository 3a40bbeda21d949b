"""``intercoder train``: fine-tune the encoder on a project's coded units into a project model."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from service.cli.paths import coded_data, input_folder, output_folder
from service.cli.progress import training_progress
from service.cli.support import INTERRUPTED_STATUS, exits_cleanly


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
            help="How many top layers of MiniLM's 6 to fine-tune (default 4); more train "
            "more slowly.",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Insist on continuing an interrupted run: an error if no checkpoint of these "
            "inputs is there (without it, one is used when there is one).",
        ),
    ] = False,
    checkpoint_every: Annotated[
        int, typer.Option(min=1, help="Training steps between checkpoints.")
    ] = 25,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Nothing on stderr: no expected time, no bars (a terminal) or phase times "
            "(a pipe).",
        ),
    ] = False,
) -> None:
    """Fine-tune MiniLM on coded units, each read with its speaker and the unit before it.

    Writes a model folder named after the hash of the training data, the codebook and the
    settings. Suggest with it: `intercoder suggest --model FOLDER`, or serve it with
    INTERCODER_MODEL_PATH=FOLDER intercoder serve. Says first how long it expects to take.
    Ctrl-C (or SIGTERM) stops it after the current step with a checkpoint in
    <out>/.checkpoints; the same command continues from there to the same model.
    """
    from service.app.training import TrainingPlan, TrainingWatch, train_model
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
        resume=resume,
        checkpoint_every=checkpoint_every,
    )
    stop = threading.Event()
    with training_progress(quiet) as (say, report), stop_on_signals(stop) as received:
        try:
            outcome = train_model(plan, get_settings(), TrainingWatch(say, report, stop))
        except KeyboardInterrupt as interrupted:  # TrainingInterrupted, or a second Ctrl-C
            _say_interrupted(interrupted, out)
            status = 128 + received[0] if received else INTERRUPTED_STATUS  # 143 for SIGTERM
            raise typer.Exit(code=status) from None
    if outcome.resumed_at:
        typer.echo(f"continued from the checkpoint at step {outcome.resumed_at}")
    losses = ", ".join(f"{loss:.3f}" for loss in outcome.validation_losses)
    typer.echo(f"wrote {outcome.folder}")
    typer.echo(
        f"  {outcome.units} units, {outcome.steps} steps in {outcome.seconds:.0f} s; "
        f"held-out loss by check: {losses or 'n/a'}"
    )
    typer.echo(
        f"  suggest with: intercoder suggest TRANSCRIPT --model {outcome.folder} --codebook ..."
    )


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """Ctrl-C or SIGTERM sets ``stop`` (training ends after its step, with a checkpoint);
    a second one stops at once. Yields the signals received."""
    received: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    # A signal ignored from the start stays ignored: a job a shell started in the background
    # inherits SIGINT ignored, so that the terminal's Ctrl-C is not meant for it.
    wanted = (
        sig
        for sig in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(sig) is not signal.SIG_IGN
    )
    previous = {sig: signal.signal(sig, handle) for sig in wanted}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _say_interrupted(interrupted: KeyboardInterrupt, out: Path | None) -> None:
    from models.train_checkpoint import CHECKPOINTS_DIR, TrainingInterrupted

    if isinstance(interrupted, TrainingInterrupted) and interrupted.folder is None:
        typer.echo(
            "interrupted before the first training step: nothing was kept; run the same "
            "command again to start",
            err=True,
        )
        return
    if isinstance(interrupted, TrainingInterrupted):
        where = (
            f"stopped at step {interrupted.step} of {interrupted.total}; the checkpoint is in "
            f"{interrupted.folder}"
        )
    else:
        from service.settings import get_settings

        models = out if out is not None else get_settings().data_dir / "models"
        where = f"the last checkpoint is kept in {models / CHECKPOINTS_DIR}"
    typer.echo(
        f"interrupted: {where}; run the same command again to continue",
        err=True,
    )
