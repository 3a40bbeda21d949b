"""Use case: fine-tune the encoder on coded units into a project model (``intercoder train``).

The coded units come from a file, a REFI-QDA project, a public dataset, or a project of the
local store. The model folder is then used through the same coder as every other model
(``intercoder suggest --model``, ``INTERCODER_MODEL_PATH``).

A run says first how long it expects to take, reports each phase's progress, and keeps a
checkpoint in ``<models folder>/.checkpoints/<model name>`` (every few steps and when it is
stopped). The same command run again continues from that checkpoint, with the same result as a
run never stopped; ``resume`` insists on one. The checkpoint is deleted once the model is saved.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from codebook.errors import InputError
from codebook.model import Codebook
from eval.inputs import load_eval_input
from service.app.evaluating import subsample_transcripts, tuning_config
from service.settings import Settings
from service.store.database import Store
from service.store.exemplars import all_exemplars, coded_units
from service.store.projects import current_codebook

if TYPE_CHECKING:
    from models.finetune import TrainConfig
    from models.train_checkpoint import CheckpointPlan
    from models.train_progress import TrainProgress


@dataclass(frozen=True)
class TrainingPlan:
    """Where the coded units come from and how to train; checked before any training."""

    data: str | None = None
    project: str | None = None
    codebook: str | None = None
    out: Path | None = None
    max_transcripts: int | None = None
    seed: int = 0
    shared_dir: Path | None = None
    trained_layers: int | None = None
    resume: bool = False  # continue from a checkpoint of these inputs; an error if none
    checkpoint_every: int = 25  # training steps between checkpoints


def _ignore(_: object) -> None:
    return None


@dataclass(frozen=True)
class TrainingWatch:
    """What the caller sees of a run and how it stops one (a signal handler sets ``stop``)."""

    say: Callable[[str], None] = _ignore  # lines: what is trained, the estimate, a resumption
    report: Callable[[TrainProgress], None] = _ignore  # each phase's progress
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class TrainingOutcome:
    folder: Path
    units: int
    steps: int
    seconds: float
    validation_losses: tuple[float, ...]
    resumed_at: int  # the step a checkpoint had reached; 0 when trained from the start


def train_model(plan: TrainingPlan, settings: Settings, watch: TrainingWatch) -> TrainingOutcome:
    """Train, save the model folder (named after the hash of its inputs) and say where."""
    from models.finetune import TrainControl  # torch: only once training is asked for
    from models.project_model import save_project_model, train_project_model
    from models.train_checkpoint import remove_checkpoint

    if (plan.data is None) == (plan.project is None):
        raise InputError(
            "give either --data (coded units, a .qdpx or a dataset) or --project (a project of "
            "the local store), not both and not neither"
        )
    if plan.project is not None:
        book, coded = project_training_data(settings, plan.project)
    else:
        source = load_eval_input(str(plan.data), plan.codebook, plan.shared_dir)
        book, coded = source.codebook, source.reference
    frame, note = subsample_transcripts(coded, plan.max_transcripts, plan.seed)
    config = training_config(plan)
    models_dir = plan.out or settings.data_dir / "models"
    checkpoint = checkpoint_plan(plan, frame, book, config, models_dir)
    if note:
        watch.say(f"training on a {note}")
    watch.say(
        f"training on {len(frame)} units of {frame['transcript_id'].nunique()} transcripts "
        f"({book.name}, {len(book.codable_ids)} codes)"
    )
    control = TrainControl(watch.report, watch.say, True, watch.stop, checkpoint)
    trained = train_project_model(frame, book, config, control)
    folder = save_project_model(trained, models_dir)
    remove_checkpoint(checkpoint)
    return TrainingOutcome(
        folder=folder,
        units=trained.card.n_units,
        steps=trained.result.steps,
        seconds=trained.card.train_seconds,
        validation_losses=tuple(trained.card.validation_losses),
        resumed_at=trained.result.resumed_at,
    )


def training_config(plan: TrainingPlan) -> TrainConfig:
    """The default settings with the plan's seed and number of trained layers."""
    from models.finetune import TrainConfig

    return dataclasses.replace(tuning_config(plan.trained_layers) or TrainConfig(), seed=plan.seed)


def project_training_data(settings: Settings, project_id: str) -> tuple[Codebook, pd.DataFrame]:
    """A stored project's codebook and its exemplars as a coded-units table."""
    store = Store(settings.database_path)
    try:
        with store.read() as connection:
            book = current_codebook(connection, project_id)
            rows = all_exemplars(connection, project_id)
    finally:
        store.close()
    return book, coded_units(rows)


def checkpoint_plan(
    plan: TrainingPlan,
    frame: pd.DataFrame,
    book: Codebook,
    config: TrainConfig,
    models_dir: Path,
) -> CheckpointPlan:
    """Where this run keeps its checkpoint; with ``resume``, an error now if there is none."""
    from models.project_model import frame_training_hash
    from models.train_checkpoint import STATE_FILE, CheckpointPlan, checkpoint_folder

    digest = frame_training_hash(frame, book, config)
    folder = checkpoint_folder(models_dir, digest)
    note = (
        f"{plan.data or 'project ' + str(plan.project)}, {len(frame)} units, seed {plan.seed}, "
        f"{config.trained_layers} trained layers"
    )
    if plan.resume and not (folder / STATE_FILE).is_file():
        raise InputError(no_checkpoint_message(models_dir, note))
    return CheckpointPlan(folder, digest, plan.checkpoint_every, note)


def no_checkpoint_message(models_dir: Path, note: str) -> str:
    """Why --resume cannot go on, with the checkpoints that are there (other inputs')."""
    from models.train_checkpoint import checkpoints_in

    others = checkpoints_in(models_dir)
    found = "; ".join(f"{other.note} (step {other.step} of {other.total})" for other in others)
    return f"--resume: no checkpoint for these inputs ({note}) in {models_dir}; " + (
        f"the checkpoints there were written for other inputs: {found}; run with the same "
        "options as the interrupted run, or drop --resume to train from the start"
        if others
        else "drop --resume to train from the start"
    )
