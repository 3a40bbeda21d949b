"""``intercoder evaluate``: machine-vs-human agreement, code by code, as JSON and HTML."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import pandas as pd
import typer

from eval.methods import ALL_METHODS
from service.cli_support import exits_cleanly

if TYPE_CHECKING:
    from models.finetune import TrainConfig

# The default head, the previous default and the two baselines. Fine-tuning per fold ("tuned")
# is on request: it did not yet hold on every dataset (eval/RESULTS.md) and takes minutes a fold.
DEFAULT_METHODS = ["linear", "knn", "tfidf-5nn", "majority"]


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
            "dataset: annomi:therapist, annomi:client, swda.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.json and report.html.")],
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
    folds: Annotated[int, typer.Option(min=2, help="Grouped folds.")] = 5,
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
            help="Tuned methods: how many top layers of MiniLM's 6 to fine-tune (default 2, "
            "fixed for every dataset; more layers train more slowly).",
        ),
    ] = None,
) -> None:
    """Cross-validate methods against human coding; write report.json and report.html."""
    from eval.crossval import prepare
    from eval.harness import EvalOptions
    from eval.harness import evaluate as run_evaluation
    from eval.html_report import write_report
    from eval.inputs import load_eval_input
    from eval.methods import method_by_name
    from service.runtime import build_encoder

    train_config = tuning_config(trained_layers)
    chosen = [method_by_name(name, train_config) for name in (method or DEFAULT_METHODS)]
    if learning_curve:
        method_by_name(learning_method)  # an unknown name fails now, not after the folds
    source = load_eval_input(data, codebook, shared_dir, min_share=min_share)
    frame, note = subsample_transcripts(source.reference, max_transcripts, seed)
    if group_by is Grouping.transcript:
        frame = frame.assign(group=frame["transcript_id"])
    steps = ["embedding units", *(m.name for m in chosen)]
    steps += ["learning curve"] if learning_curve else []
    with typer.progressbar(length=len(steps), label="evaluating", file=None) as bar:

        def advance(step: str) -> None:
            bar.label = step
            bar.update(1)

        data_ready = prepare(frame, source.codebook, build_encoder())
        options = EvalOptions(
            n_folds=None if leave_one_out else folds,
            seed=seed,
            max_train_units=max_train_units,
            learning_method=learning_method if learning_curve else None,
            grouping="video (AnnoMI video_url)" if _grouped_by_video(frame) else group_by.value,
            subsample_note=note,
            notes=_notes(max_train_units, trained_layers),
            train_config=train_config,
        )
        report = run_evaluation(source, data_ready, chosen, options, progress=advance)
    json_path, html_path = write_report(report, out)
    typer.echo(f"wrote {json_path} and {html_path}")
    for result in report.methods:
        kappa = "n/a" if result.kappa is None else f"{result.kappa:.3f}"
        typer.echo(f"  {result.method:<10} kappa {kappa}")


def subsample_transcripts(
    frame: pd.DataFrame, max_transcripts: int | None, seed: int
) -> tuple[pd.DataFrame, str | None]:
    transcripts = sorted(frame["transcript_id"].unique())
    if max_transcripts is None or max_transcripts >= len(transcripts):
        return frame, None
    chosen = set(np.random.default_rng(seed).choice(transcripts, max_transcripts, replace=False))
    note = f"random sample of {max_transcripts} of {len(transcripts)} transcripts (seed {seed})"
    return frame.loc[frame["transcript_id"].isin(chosen)].reset_index(drop=True), note


def _grouped_by_video(frame: pd.DataFrame) -> bool:
    return bool(frame["group"].astype(str).str.startswith("http").any())


def tuning_config(trained_layers: int | None) -> TrainConfig | None:
    """The fine-tuning settings with the command line's change; None keeps the defaults (and
    spares loading torch when no tuned method runs)."""
    if trained_layers is None:
        return None
    from models.finetune import TrainConfig

    return dataclasses.replace(TrainConfig(), trained_layers=trained_layers)


def _notes(max_train_units: int | None, trained_layers: int | None) -> tuple[str, ...]:
    notes = []
    if max_train_units is not None:
        notes.append(f"each fold trained on a random sample of at most {max_train_units} units")
    if trained_layers is not None:
        notes.append(f"tuned methods fine-tuned the top {trained_layers} of MiniLM's 6 layers")
    return tuple(notes)
